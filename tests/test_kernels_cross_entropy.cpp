// ops_cpu/cross_entropy: the fused one-pass kernels against the naive two-pass references
// (cross_entropy_*_naive, double accumulators, materialised softmax), plus closed forms,
// central differences, ignore_index rows, in-place backward and edge rows.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "ops_cpu/cross_entropy.h"

using namespace gs::cpu;

namespace {

constexpr int64_t kIgnore = -100;

template <class T>
std::vector<T> random_vec(int64_t n, uint64_t seed, double lo, double hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& e : v) e = static_cast<T>(d(rng));
  return v;
}

// Targets in [0, V), every `ignore_every`-th row set to ignore_index (0: none ignored).
std::vector<int64_t> random_targets(int64_t N, int64_t V, uint64_t seed, int64_t ignore_every) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> t(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i)
    t[i] = (ignore_every && i % ignore_every == 1) ? kIgnore : static_cast<int64_t>(rng() % V);
  return t;
}

// Runs fast and naive kernels on the same inputs and compares loss, lse and gradient.
// Tolerances are absolute on lse/loss scaled by (1 + |lse|) and absolute on gradient entries
// (which lie in [-|scale|, |scale|]):
//   float: lse = m + log(s) is rounded to float once (2^-24 relative) and the naive one is
//   rounded as well; exp(logit - lse) in float then carries that rounding as an absolute
//   exponent error of ~2^-24 |lse|. tol_f * (1 + |lse|) with tol_f = 1e-6 covers both.
//   double: the same with 2^-53, tol_d = 1e-12.
template <class T>
void compare_fast_naive(int64_t N, int64_t V, const std::vector<T>& logits,
                        const std::vector<int64_t>& targets, T scale) {
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-12;
  std::vector<T> loss(N, T(-1)), lse(N, T(-1)), loss_n(N), lse_n(N);
  cross_entropy_forward(N, V, logits.data(), targets.data(), kIgnore, loss.data(), lse.data());
  cross_entropy_forward_naive(N, V, logits.data(), targets.data(), kIgnore, loss_n.data(),
                              lse_n.data());
  double max_lse = 0;
  for (int64_t i = 0; i < N; ++i) {
    CAPTURE(N, V, i);
    REQUIRE(std::isfinite(lse[i]));
    REQUIRE(std::abs(lse[i] - lse_n[i]) <= tol * (1 + std::abs(lse_n[i])));
    REQUIRE(std::abs(loss[i] - loss_n[i]) <= tol * (1 + std::abs(lse_n[i])));
    if (targets[i] == kIgnore)
      REQUIRE(loss[i] == T(0));
    else
      REQUIRE(loss[i] >= T(0));  // -log p with p <= 1
    max_lse = std::max(max_lse, std::abs((double)lse_n[i]));
  }
  std::vector<T> grad(N * V, T(7)), grad_n(N * V, T(7));
  cross_entropy_backward(N, V, logits.data(), targets.data(), lse.data(), kIgnore, scale,
                         grad.data());
  cross_entropy_backward_naive(N, V, logits.data(), targets.data(), kIgnore, scale, grad_n.data());
  const double gtol = tol * (1 + max_lse) * std::abs((double)scale);
  for (int64_t i = 0; i < N; ++i) {
    double row_sum = 0;
    for (int64_t j = 0; j < V; ++j) {
      const auto k = i * V + j;
      if (std::abs(grad[k] - grad_n[k]) > gtol) {
        CAPTURE(N, V, i, j, grad[k], grad_n[k], gtol);
        REQUIRE(std::abs(grad[k] - grad_n[k]) <= gtol);
      }
      if (targets[i] == kIgnore && grad[k] != T(0)) REQUIRE(grad[k] == T(0));
      row_sum += grad[k];
    }
    // softmax sums to 1 and the one-hot subtracts 1: every row of the gradient sums to 0.
    REQUIRE(std::abs(row_sum) <= 10 * gtol * (1 + std::sqrt((double)V)));
  }
  // the fused in-place kernel against the same naive references, same tolerances
  std::vector<T> fused = logits, loss_f(N, T(-1)), lse_f(N, T(-1));
  cross_entropy_fused(N, V, fused.data(), targets.data(), kIgnore, scale, loss_f.data(), lse_f.data());
  for (int64_t i = 0; i < N; ++i) {
    CAPTURE(N, V, i);
    REQUIRE(std::abs(lse_f[i] - lse_n[i]) <= tol * (1 + std::abs(lse_n[i])));
    REQUIRE(std::abs(loss_f[i] - loss_n[i]) <= tol * (1 + std::abs(lse_n[i])));
    for (int64_t j = 0; j < V; ++j) {
      const auto k = i * V + j;
      if (std::abs(fused[k] - grad_n[k]) > gtol) {
        CAPTURE(j, fused[k], grad_n[k], gtol);
        REQUIRE(std::abs(fused[k] - grad_n[k]) <= gtol);
      }
      if (targets[i] == kIgnore && fused[k] != T(0)) REQUIRE(fused[k] == T(0));
    }
  }
}

}  // namespace

TEMPLATE_TEST_CASE("cross_entropy fast matches naive on random rows",
                   "[ops_cpu][cross_entropy][h1-ce]", float, double) {
  using T = TestType;
  // small; many rows (N * V above the parallel grain); with ignored rows
  compare_fast_naive<T>(8, 37, random_vec<T>(8 * 37, 1, -5, 5), random_targets(8, 37, 2, 0), T(1));
  compare_fast_naive<T>(300, 129, random_vec<T>(300 * 129, 3, -10, 10),
                        random_targets(300, 129, 4, 3), T(1) / T(300));
  compare_fast_naive<T>(5, 1, random_vec<T>(5, 5, -1, 1), random_targets(5, 1, 6, 2), T(-2.5));
}

TEMPLATE_TEST_CASE("cross_entropy fast matches naive for V = 50,000",
                   "[ops_cpu][cross_entropy][h1-ce]", float, double) {
  using T = TestType;
  const int64_t N = 6, V = 50000;
  auto logits = random_vec<T>(N * V, 7, -6, 6);
  auto targets = random_targets(N, V, 8, 4);  // row 1 and row 5 ignored
  logits[2 * V + targets[2]] = T(20);         // a confident correct row: loss near 0
  compare_fast_naive<T>(N, V, logits, targets, T(0.5));
}

TEMPLATE_TEST_CASE("cross_entropy is exact for extreme logits", "[ops_cpu][cross_entropy][h1-ce]",
                   float, double) {
  using T = TestType;
  // exp(1e4) overflows both types, so only a max-shifted kernel gets these right. Row i holds
  // k_i entries at +1e4 and the rest at -1e4; then lse = 1e4 + log(k_i) to within exp(-2e4),
  // the loss is log(k_i) when the target is at +1e4 and 2e4 + log(k_i) when it is at -1e4, and
  // the gradient is 1/k_i - [j == t] on the +1e4 entries, -[j == t] elsewhere.
  const int64_t N = 4, V = 1000;
  const std::vector<int64_t> k = {1, 2, 7, 1000};
  std::vector<T> logits(N * V, T(-1e4));
  std::vector<int64_t> targets = {0, 999, 3, 500};  // row 1's target sits at -1e4
  for (int64_t i = 0; i < N; ++i)
    for (int64_t j = 0; j < k[i]; ++j) logits[i * V + j * (V / k[i])] = T(1e4);
  std::vector<T> loss(N), lse(N), grad(N * V);
  cross_entropy_forward(N, V, logits.data(), targets.data(), kIgnore, loss.data(), lse.data());
  cross_entropy_backward(N, V, logits.data(), targets.data(), lse.data(), kIgnore, T(1),
                         grad.data());
  // float: lse ~ 1e4 is stored with spacing 2^-10, so lse carries up to 4.9e-4 absolute error
  // and the probabilities exp(logit - lse) up to ~5e-4 relative; double keeps ~1e-12 * 1e4.
  const double atol = std::is_same_v<T, float> ? 1e-3 : 1e-11;
  for (int64_t i = 0; i < N; ++i) {
    CAPTURE(i);
    const bool on_max = logits[i * V + targets[i]] == T(1e4);
    REQUIRE(std::abs(lse[i] - (1e4 + std::log((double)k[i]))) <= atol);
    REQUIRE(std::abs(loss[i] - ((on_max ? 0.0 : 2e4) + std::log((double)k[i]))) <= atol);
    for (int64_t j = 0; j < V; ++j) {
      const double p = logits[i * V + j] == T(1e4) ? 1.0 / k[i] : 0.0;
      const double want = p - (j == targets[i] ? 1.0 : 0.0);
      if (std::abs(grad[i * V + j] - want) > atol) {
        CAPTURE(j, grad[i * V + j], want);
        REQUIRE(std::abs(grad[i * V + j] - want) <= atol);
      }
    }
  }
  // and the naive reference agrees (it shifts by the max as well)
  compare_fast_naive<T>(N, V, logits, targets, T(1));
}

TEMPLATE_TEST_CASE("cross_entropy ignored rows give zero loss and zero gradient",
                   "[ops_cpu][cross_entropy][h1-ce]", float, double) {
  using T = TestType;
  const int64_t N = 3, V = 4;
  std::vector<T> logits = {T(1), T(2), T(3), T(4), T(0), T(0), T(0), T(0), T(-1), T(5), T(2), T(0)};
  std::vector<int64_t> targets = {kIgnore, 2, kIgnore};
  std::vector<T> loss(N, T(9)), lse(N), grad(N * V, T(9));
  cross_entropy_forward(N, V, logits.data(), targets.data(), kIgnore, loss.data(), lse.data());
  cross_entropy_backward(N, V, logits.data(), targets.data(), lse.data(), kIgnore, T(1),
                         grad.data());
  REQUIRE(loss[0] == T(0));
  REQUIRE(loss[2] == T(0));
  REQUIRE(loss[1] == Approx(std::log(4.0)));  // uniform row of 4
  // lse is still reported for ignored rows
  REQUIRE(lse[0] ==
          Approx(std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0) + std::exp(4.0))));
  for (int64_t j = 0; j < V; ++j) {
    REQUIRE(grad[j] == T(0));
    REQUIRE(grad[2 * V + j] == T(0));
    REQUIRE(grad[V + j] == Approx(0.25 - (j == 2 ? 1.0 : 0.0)));
  }
  // a custom ignore_index (here 3) is honoured the same way; row 2 is an ordinary row again.
  std::vector<int64_t> t2 = {3, 2, 0};
  cross_entropy_forward(N, V, logits.data(), t2.data(), int64_t(3), loss.data(), lse.data());
  REQUIRE(loss[0] == T(0));
  REQUIRE(loss[2] == Approx(lse[2] - T(-1)));
}

TEMPLATE_TEST_CASE("cross_entropy backward may write over the logits",
                   "[ops_cpu][cross_entropy][h1-ce]", float, double) {
  using T = TestType;
  const int64_t N = 64, V = 1031;
  auto logits = random_vec<T>(N * V, 9, -4, 4);
  auto targets = random_targets(N, V, 10, 5);
  std::vector<T> loss(N), lse(N), grad(N * V);
  cross_entropy_forward(N, V, logits.data(), targets.data(), kIgnore, loss.data(), lse.data());
  cross_entropy_backward(N, V, logits.data(), targets.data(), lse.data(), kIgnore, T(0.25),
                         grad.data());
  cross_entropy_backward(N, V, logits.data(), targets.data(), lse.data(), kIgnore, T(0.25),
                         logits.data());
  REQUIRE(logits == grad);  // same arithmetic on the same values: bitwise equal
}

TEST_CASE("cross_entropy backward matches central differences of the forward",
          "[ops_cpu][cross_entropy][h1-ce]") {
  // L = scale * sum_i loss_rows[i]. Central differences in double, eps 1e-6: truncation
  // O(eps^2), cancellation ~1e-16 * |L| / eps ~ 1e-9; 1e-7 absolute separates that from any
  // real error (gradient entries are O(0.1)).
  const int64_t N = 3, V = 6;
  const double scale = 0.7;
  auto logits = random_vec<double>(N * V, 11, -3, 3);
  std::vector<int64_t> targets = {4, kIgnore, 0};
  auto L = [&](const std::vector<double>& x) {
    std::vector<double> loss(N), lse(N);
    cross_entropy_forward<double>(N, V, x.data(), targets.data(), kIgnore, loss.data(), lse.data());
    double s = 0;
    for (double v : loss) s += v;
    return scale * s;
  };
  std::vector<double> loss(N), lse(N), grad(N * V);
  cross_entropy_forward<double>(N, V, logits.data(), targets.data(), kIgnore, loss.data(),
                                lse.data());
  cross_entropy_backward<double>(N, V, logits.data(), targets.data(), lse.data(), kIgnore, scale,
                                 grad.data());
  for (int64_t k = 0; k < N * V; ++k) {
    auto xp = logits, xm = logits;
    xp[k] += 1e-6;
    xm[k] -= 1e-6;
    CAPTURE(k);
    REQUIRE(std::abs(grad[k] - (L(xp) - L(xm)) / 2e-6) <= 1e-7);
  }
}

TEMPLATE_TEST_CASE("cross_entropy edge rows: -inf entries and all -inf rows",
                   "[ops_cpu][cross_entropy][h1-ce]", float, double) {
  using T = TestType;
  const T inf = std::numeric_limits<T>::infinity();
  const int64_t N = 3, V = 3;
  std::vector<T> logits = {-inf, T(0), T(0),   // leading -inf must not poison the running sum
                           -inf, -inf, -inf,   // fully masked: lse -inf, loss NaN (documented)
                           T(0), T(0), -inf};  // trailing -inf
  std::vector<int64_t> targets = {1, 0, 0};
  std::vector<T> loss(N), lse(N), grad(N * V);
  cross_entropy_forward(N, V, logits.data(), targets.data(), kIgnore, loss.data(), lse.data());
  cross_entropy_backward(N, V, logits.data(), targets.data(), lse.data(), kIgnore, T(1),
                         grad.data());
  REQUIRE(loss[0] == Approx(std::log(2.0)));
  REQUIRE(lse[1] == -inf);
  REQUIRE(std::isnan(loss[1]));
  REQUIRE(loss[2] == Approx(std::log(2.0)));
  REQUIRE(grad[0] == T(0));
  REQUIRE(grad[1] == Approx(-0.5));
  REQUIRE(grad[2] == Approx(0.5));
  REQUIRE(grad[8] == T(0));
}

TEMPLATE_TEST_CASE("cross_entropy_fused: edge rows give what forward + backward give",
                   "[ops_cpu][cross_entropy][h1-ce]", float, double) {
  using T = TestType;
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  const int64_t N = 6, V = 3;
  const std::vector<T> logits = {-inf, T(0), T(0),   // -inf entry: probability 0
                                 -inf, -inf, -inf,   // fully masked: lse -inf, loss NaN, gradient NaN
                                 T(0), T(0), -inf,   //
                                 T(1), nan, T(2),    // NaN poisons the row
                                 T(1), inf, T(0),    // +inf: lse +inf
                                 T(3), T(1), T(2)};  // ignored
  const std::vector<int64_t> targets = {1, 0, 0, 2, 0, kIgnore};
  std::vector<T> loss(N), lse(N), grad(N * V), loss_f(N), lse_f(N), fused = logits;
  cross_entropy_forward(N, V, logits.data(), targets.data(), kIgnore, loss.data(), lse.data());
  cross_entropy_backward(N, V, logits.data(), targets.data(), lse.data(), kIgnore, T(0.5), grad.data());
  cross_entropy_fused(N, V, fused.data(), targets.data(), kIgnore, T(0.5), loss_f.data(), lse_f.data());
  auto same = [](T a, T b) { return (std::isnan(a) && std::isnan(b)) || a == Approx(b).margin(1e-6); };
  for (int64_t i = 0; i < N; ++i) {
    CAPTURE(i, lse[i], lse_f[i], loss[i], loss_f[i]);
    REQUIRE(same(lse_f[i], lse[i]));
    REQUIRE(same(loss_f[i], loss[i]));
    for (int64_t j = 0; j < V; ++j) {
      CAPTURE(j, grad[i * V + j], fused[i * V + j]);
      REQUIRE(same(fused[i * V + j], grad[i * V + j]));
    }
  }
  REQUIRE(fused[1] == Approx(-0.25));  // row 0: (1/2 - 1) * 0.5
  REQUIRE(fused[15] == T(0));          // ignored row zeroed
  // a NaN among -inf entries: the max skips NaN, the lse must not (NaN, not -inf)
  const std::vector<T> nan_row = {-inf, nan, -inf};
  const std::vector<int64_t> t0 = {0};
  T l1 = 0, s1 = 0;
  cross_entropy_forward(1, 3, nan_row.data(), t0.data(), kIgnore, &l1, &s1);
  REQUIRE(std::isnan(s1));
  REQUIRE(std::isnan(l1));
}
