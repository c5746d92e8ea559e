// ops_cpu/softmax: forward kernels against long-double references written here, backward
// kernels against the explicit Jacobian-transpose product and against central differences.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "ops_cpu/softmax.h"

using namespace gs::cpu;

namespace {

template <class T>
std::vector<T> random_vec(int64_t n, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& e : v) e = static_cast<T>(d(rng));
  return v;
}

// Reference softmax of one row in long double (max-shifted so extreme rows stay finite).
template <class T>
std::vector<long double> ref_softmax_row(int64_t cols, const T* x) {
  long double m = x[0];
  for (int64_t j = 1; j < cols; ++j) m = std::max<long double>(m, x[j]);
  std::vector<long double> p(static_cast<size_t>(cols));
  long double s = 0;
  for (int64_t j = 0; j < cols; ++j) s += (p[j] = std::exp(static_cast<long double>(x[j]) - m));
  for (auto& v : p) v /= s;
  return p;
}

template <class T>
constexpr double tol_for() {
  // float: the exponent x - m is rounded once (absolute <= 2^-24 * 16 ~ 1e-6 for |x| <= 8),
  // then exp, the reciprocal and the product cost a few ulps (2^-24 ~ 6e-8 each); the sum is
  // in double. That is < 2e-6 relative on probabilities in [0, 1]; 4e-6 leaves margin (log-
  // probs are compared relative to their magnitude). double: same reasoning, 2^-53 -> 1e-13.
  return std::is_same_v<T, float> ? 4e-6 : 1e-13;
}

}  // namespace

TEMPLATE_TEST_CASE("softmax_rows and log_softmax_rows match references",
                   "[ops_cpu][softmax][h1-softmax]", float, double) {
  using T = TestType;
  const double tol = tol_for<T>();
  // (rows, cols): small, one wide row, many rows (parallel path), a single column.
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{3, 7}, {1, 5000}, {512, 64}, {4, 1}};
  for (auto [rows, cols] : shapes) {
    CAPTURE(rows, cols);
    auto x = random_vec<T>(rows * cols, rows + cols, -8, 8);
    std::vector<T> y(x.size()), ly(x.size());
    softmax_rows(rows, cols, x.data(), y.data());
    log_softmax_rows(rows, cols, x.data(), ly.data());
    for (int64_t r = 0; r < rows; ++r) {
      auto p = ref_softmax_row(cols, x.data() + r * cols);
      double row_sum = 0;
      for (int64_t j = 0; j < cols; ++j) {
        const auto k = r * cols + j;
        REQUIRE(std::abs(y[k] - (double)p[j]) <= tol);
        REQUIRE(std::abs(ly[k] - (double)std::log(p[j])) <=
                tol * (1 + std::abs((double)std::log(p[j]))));
        row_sum += y[k];
      }
      REQUIRE(std::abs(row_sum - 1.0) <= tol * (1 + cols * 0.1));
    }
  }
}

TEMPLATE_TEST_CASE("softmax is stable for extreme logits and may run in place",
                   "[ops_cpu][softmax][h1-softmax]", float, double) {
  using T = TestType;
  // exp(1e4) overflows both float and double; a max-shifted kernel gives exact answers here:
  // row 0 has two entries at the max -> 0.5 each; row 1 is shifted by -1e4 (softmax is shift
  // invariant) and has a difference of log(3) -> probabilities 3/4 and 1/4.
  const T l3 = static_cast<T>(std::log(3.0));
  std::vector<T> x = {T(1e4),  T(-1e4),      T(1e4),   T(0),  //
                      T(-1e4), T(-1e4) - l3, T(-1e30), T(-1e30)};
  std::vector<T> ly(x.size());
  log_softmax_rows<T>(2, 4, x.data(), ly.data());
  softmax_rows<T>(2, 4, x.data(), x.data());  // y aliases x
  const double tol = tol_for<T>();
  // float: -1e4 - log(3) rounds with spacing 2^-10 at 1e4, so the 3:1 ratio is only good to
  // ~1e-3 relative there; double keeps 1e-12.
  const double tol_shift = std::is_same_v<T, float> ? 1e-3 : 1e-12;
  CHECK(x[0] == Approx(0.5).margin(tol));
  CHECK(x[1] == T(0));
  CHECK(x[2] == Approx(0.5).margin(tol));
  CHECK(x[3] == T(0));
  CHECK(x[4] == Approx(0.75).margin(tol_shift));
  CHECK(x[5] == Approx(0.25).margin(tol_shift));
  CHECK(x[6] == T(0));
  CHECK(ly[0] == Approx(-std::log(2.0)).margin(tol));
  CHECK(std::isfinite(ly[1]));
  CHECK(ly[1] == Approx(-2e4 - std::log(2.0)).epsilon(1e-6));
  CHECK(ly[4] == Approx(std::log(0.75)).margin(tol_shift));
  CHECK(ly[5] == Approx(std::log(0.25)).margin(tol_shift));
}

TEMPLATE_TEST_CASE("softmax edge rows: all -inf is NaN, partial -inf is zero probability",
                   "[ops_cpu][softmax][h1-softmax]", float, double) {
  using T = TestType;
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  std::vector<T> x = {-inf, -inf, -inf,   // documented: NaN everywhere
                      -inf, T(0), T(0),   // masked entry: probability 0, log-prob -inf
                      T(1), nan,  T(2)};  // NaN poisons the row
  std::vector<T> y(9), ly(9);
  softmax_rows<T>(3, 3, x.data(), y.data());
  log_softmax_rows<T>(3, 3, x.data(), ly.data());
  for (int j = 0; j < 3; ++j) {
    REQUIRE(std::isnan(y[j]));
    REQUIRE(std::isnan(ly[j]));
    REQUIRE(std::isnan(y[6 + j]));
    REQUIRE(std::isnan(ly[6 + j]));
  }
  REQUIRE(y[3] == T(0));
  REQUIRE(ly[3] == -inf);
  REQUIRE(y[4] == Approx(0.5));
  REQUIRE(ly[5] == Approx(-std::log(2.0)));
}

TEMPLATE_TEST_CASE("softmax backward kernels match the explicit Jacobian",
                   "[ops_cpu][softmax][h1-softmax]", float, double) {
  using T = TestType;
  // Jacobians: d softmax_k / d x_j = p_k (delta_kj - p_j); d logsoftmax_k / d x_j = delta_kj - p_j.
  // gx_j = sum_k gy_k J_kj, computed here as a full O(cols^2) product in long double.
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-13;  // float: sums of ~cols products
  for (auto [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{{3, 6}, {200, 50}}) {
    CAPTURE(rows, cols);
    auto x = random_vec<T>(rows * cols, 7 + cols, -3, 3);
    auto gy = random_vec<T>(rows * cols, 8 + cols);
    std::vector<T> y(x.size()), ly(x.size()), gx(x.size()), lgx(x.size());
    softmax_rows(rows, cols, x.data(), y.data());
    log_softmax_rows(rows, cols, x.data(), ly.data());
    softmax_backward_rows(rows, cols, y.data(), gy.data(), gx.data());
    log_softmax_backward_rows(rows, cols, ly.data(), gy.data(), lgx.data());
    for (int64_t r = 0; r < rows; ++r) {
      auto p = ref_softmax_row(cols, x.data() + r * cols);
      const T* g = gy.data() + r * cols;
      for (int64_t j = 0; j < cols; ++j) {
        long double a = 0, b = 0;
        for (int64_t k = 0; k < cols; ++k) {
          a += g[k] * p[k] * ((k == j ? 1.0L : 0.0L) - p[j]);
          b += g[k] * ((k == j ? 1.0L : 0.0L) - p[j]);
        }
        REQUIRE(std::abs(gx[r * cols + j] - (double)a) <= tol);
        REQUIRE(std::abs(lgx[r * cols + j] - (double)b) <= tol);
      }
    }
    // in place: gx aliases gy
    std::vector<T> g2 = gy;
    softmax_backward_rows(rows, cols, y.data(), g2.data(), g2.data());
    REQUIRE(g2 == gx);
    g2 = gy;
    log_softmax_backward_rows(rows, cols, ly.data(), g2.data(), g2.data());
    REQUIRE(g2 == lgx);
  }
}

TEST_CASE("softmax backward kernels match central differences", "[ops_cpu][softmax][h1-softmax]") {
  // L(x) = sum gy * f(x) for f in {softmax, log_softmax}; dL/dx_j by central differences with
  // eps 1e-6 in double: truncation O(eps^2) ~ 1e-12, cancellation ~ 1e-16 / 1e-6 = 1e-10, so
  // 1e-7 is a safe bound that still catches any wrong term (those are O(0.1)).
  const int64_t rows = 2, cols = 5;
  auto x = random_vec<double>(rows * cols, 21, -2, 2);
  auto gy = random_vec<double>(rows * cols, 22);
  for (bool log_form : {false, true}) {
    std::vector<double> y(x.size()), gx(x.size());
    auto f = [&](const std::vector<double>& in, std::vector<double>& out) {
      if (log_form)
        log_softmax_rows<double>(rows, cols, in.data(), out.data());
      else
        softmax_rows<double>(rows, cols, in.data(), out.data());
    };
    f(x, y);
    if (log_form)
      log_softmax_backward_rows<double>(rows, cols, y.data(), gy.data(), gx.data());
    else
      softmax_backward_rows<double>(rows, cols, y.data(), gy.data(), gx.data());
    for (size_t i = 0; i < x.size(); ++i) {
      auto xp = x, xm = x;
      xp[i] += 1e-6;
      xm[i] -= 1e-6;
      std::vector<double> yp(x.size()), ym(x.size());
      f(xp, yp);
      f(xm, ym);
      double lp = 0, lm = 0;
      for (size_t k = 0; k < x.size(); ++k) lp += gy[k] * yp[k], lm += gy[k] * ym[k];
      CAPTURE(log_form, i);
      REQUIRE(std::abs(gx[i] - (lp - lm) / 2e-6) <= 1e-7);
    }
  }
}
