// analysis/head_spectrum.cpp against an independent oracle: dgesdd (op::svd_values) of the
// materialised G. The exact path (Gram matrix + dsyevd) on flat, decaying and rank-deficient G,
// both orientations (G G^T from column blocks when N < V, G^T G from row chunks when N > V),
// float32 and float64, and the softmax gradient with ignored targets; the randomized path on a
// flat spectrum (1e-3 on the top k) and its error estimates; op::sym_eigenvalues itself.
//
// Tolerances. The Gram path's error on each sigma_i^2 is at most about (N + V) eps ||G||_F^2 in
// absolute terms (forming G G^T: K eps |g_i||g_j| per entry, K = max(N, V) the inner dimension;
// dsyevd: ~min(N, V) eps ||Gram||), i.e. a relative error of about eps sigma_max^2 / sigma_i^2
// times a size factor on sigma_i^2. The oracle's own error on sigma_i^2 is ~2 eps sigma_max
// sigma_i. Both fit in gram_tol = 4 (N + V) eps ||G||_F^2 (a worst-case bound; the real errors are
// orders smaller). float32 G given explicitly is the same matrix for both sides (it widens
// exactly), so the same tolerance applies. A float32 softmax G is recomputed by columns in the
// Gram path (exp(x - lse) on an N x b product) and by rows in the oracle (the fused kernel on a
// c x V product): entries differ by a few float32 ulps of the logits, so |sigma_i - o_i| <=
// ||dG||_2 <= ||dG||_F (Weyl), taken as 1e-5 ||G||_F.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/head_bottleneck.h"
#include "tensor/ops.h"

using namespace gs;
using namespace gs::analysis;

namespace {

Tensor rnd(const Shape& s, uint64_t seed, double std = 1.0) {
  Generator g(seed);
  return randn(s, g, kFloat64, 0.0, std);
}

// U diag(s) V^T with orthonormal U [N, r], V [V, r], r = s.size(): singular values s.
Tensor constructed(int64_t N, int64_t V, const std::vector<double>& s, uint64_t seed) {
  const int64_t r = static_cast<int64_t>(s.size());
  const Tensor U = op::orthonormal_basis(rnd({N, r}, seed)).Q;
  const Tensor Vm = op::orthonormal_basis(rnd({V, r}, seed + 1)).Q;
  return op::matmul(op::mul(U, from_vector(s, {1, r})), Vm, false, true);
}

enum class Kind { flat, decaying, rank5 };
const char* kind_name(Kind k) { return k == Kind::flat ? "flat" : k == Kind::decaying ? "decaying" : "rank 5"; }

Tensor make_g(Kind kind, int64_t N, int64_t V, uint64_t seed) {
  if (kind == Kind::flat) return rnd({N, V}, seed);  // Gaussian: Marchenko-Pastur, no gaps at the top
  if (kind == Kind::rank5) return constructed(N, V, {3.0, 2.0, 1.5, 1.0, 0.5}, seed);
  std::vector<double> s(static_cast<size_t>(std::min(N, V)));
  for (size_t i = 0; i < s.size(); ++i) s[i] = std::pow(2.0, -static_cast<double>(i));
  return constructed(N, V, s, seed);
}

std::vector<double> oracle(const Tensor& G) { return op::svd_values(op::to(G, kFloat64)); }

double sum_sq(const std::vector<double>& v, size_t from = 0, size_t to = SIZE_MAX) {
  double t = 0;
  const size_t end = std::min(to, v.size());
  for (auto it = v.begin() + static_cast<std::ptrdiff_t>(std::min(from, end)); it != v.begin() + static_cast<std::ptrdiff_t>(end); ++it)
    t += *it * *it;
  return t;
}

// A component count c for share `frac` agrees with the oracle's values when the oracle's
// cumulative share reaches frac at c and not before, each up to `slack` (shares this close to a
// threshold are decided by rounding; slack 0 demands exactly the oracle's count).
bool count_ok(int64_t c, const std::vector<double>& o, double frac, double slack) {
  const double total = sum_sq(o);
  if (c < 1 || c > static_cast<int64_t>(o.size())) return false;
  const double at = sum_sq(o, 0, static_cast<size_t>(c)), before = sum_sq(o, 0, static_cast<size_t>(c - 1));
  return at >= (frac - slack) * total && before < (frac + slack) * total;
}

void check_counts(const SpectrumMetrics& s, const std::vector<double>& o, double slack) {
  CHECK(count_ok(s.components_for_70, o, 0.70, slack));
  CHECK(count_ok(s.components_for_90, o, 0.90, slack));
  CHECK(count_ok(s.components_for_99, o, 0.99, slack));
  CHECK(count_ok(s.components_for_999, o, 0.999, slack));
}

// EYM bound for rank 2D from the oracle's full spectrum.
double eym_of(const std::vector<double>& o, int64_t two_d) {
  return std::sqrt(sum_sq(o, static_cast<size_t>(two_d)) / sum_sq(o));
}

}  // namespace

TEST_CASE("spectrum, exact: flat, decaying and rank-deficient G against dgesdd, N < V and N > V, both dtypes",
          "[analysis][spectrum]") {
  const int64_t D = 3;  // 2D = 6
  for (DType dt : {kFloat64, kFloat32})
    for (auto [N, V] : {std::pair<int64_t, int64_t>{40, 70}, {70, 40}})
      for (Kind kind : {Kind::flat, Kind::decaying, Kind::rank5}) {
        INFO(dtype_name(dt) << " G [" << N << ", " << V << "], " << kind_name(kind));
        const Tensor G = op::to(make_g(kind, N, V, 60 + static_cast<uint64_t>(kind)), dt);
        const std::vector<double> o = oracle(G);
        const HeadBasis basis = head_basis(op::to(rnd({V, D}, 63), dt));
        HeadMetricsOptions opt;
        opt.topk = 12;  // reported values; the counts and the EYM bound use all 40
        opt.memory_budget_bytes = 4096;  // several column blocks (N < V) or row chunks (N > V)
        const HeadMetrics m = grad_metrics(G, Tensor(), basis, opt);
        const SpectrumMetrics& s = m.spectrum;
        REQUIRE(s.exact);
        CHECK(s.residual == 0);
        CHECK(s.value_error == 0);
        CHECK(s.columns == 40);
        REQUIRE(s.topk == 12);
        REQUIRE(s.singular_values.size() == 12);
        const double g2 = sum_sq(o);
        const double gram_tol = 4.0 * static_cast<double>(N + V) * DBL_EPSILON * g2;
        for (size_t i = 0; i < 12; ++i) {
          INFO("sigma_" << i + 1 << " = " << s.singular_values[i] << ", dgesdd " << o[i]);
          CHECK(std::fabs(s.singular_values[i] * s.singular_values[i] - o[i] * o[i]) <= gram_tol);
          if (i > 0) CHECK(s.singular_values[i] <= s.singular_values[i - 1]);
        }
        CHECK(m.logit_grad_norm * m.logit_grad_norm == Approx(g2).epsilon(1e-12));
        check_counts(s, o, 1e-9);
        CHECK(s.eym_bound_2d == Approx(eym_of(o, 2 * D)).margin(1e-6));
        if (kind == Kind::rank5) {
          // at most 5 components, and what lies beyond the rank is reported as exact zeros
          // (float32 rounding of the entries makes G full rank at ~1e-7 sigma_max: float64 only)
          CHECK(s.components_for_999 <= 5);
          if (dt == kFloat64)
            for (size_t i = 5; i < 12; ++i) CHECK(s.singular_values[i] == 0.0);
        }
        if (kind == Kind::decaying && dt == kFloat64) {
          // sigma_i = 2^-i: 70 % at 1 component (3/4), 90 % at 2, 99 % at 4, 99.9 % at 5
          CHECK(s.components_for_70 == 1);
          CHECK(s.components_for_90 == 2);
          CHECK(s.components_for_99 == 4);
          CHECK(s.components_for_999 == 5);
          for (size_t i = 0; i < 12; ++i) CHECK(s.singular_values[i] == Approx(std::pow(2.0, -double(i))).epsilon(1e-10));
        }
      }
}

TEST_CASE("spectrum, exact: softmax gradient with ignored targets, N < V and N > V, both dtypes",
          "[analysis][spectrum]") {
  // N < V takes G G^T from column blocks rebuilt from each row's logsumexp (and the onehot, and
  // zero rows for ignored targets); N > V takes G^T G from the pass's row chunks.
  for (DType dt : {kFloat64, kFloat32})
    for (auto [N, V] : {std::pair<int64_t, int64_t>{40, 70}, {90, 30}}) {
      INFO(dtype_name(dt) << " N = " << N << ", V = " << V);
      const int64_t D = 6;
      const Tensor H = op::to(rnd({N, D}, 70, 1.5), dt), W = op::to(rnd({V, D}, 71), dt);
      Generator g(72);
      std::vector<int64_t> t = randint({N}, V, g).to_vector<int64_t>();
      int64_t ignored = 0;
      for (int64_t i = 0; i < N; i += 7) t[i] = -100, ++ignored;
      const Tensor y = from_vector(t);
      HeadMetricsOptions opt;
      opt.exact_spectrum = true;  // with topk = 0: every value
      opt.memory_budget_bytes = 6000;  // column blocks of a few columns, row chunks of a few rows
      const HeadMetrics m = head_metrics(H, W, y, opt);
      const SpectrumMetrics& s = m.spectrum;
      const std::vector<double> o = oracle(logit_grad(H, W, y));
      REQUIRE(s.exact);
      REQUIRE(s.singular_values.size() == o.size());
      CHECK(m.run.chunk < N);
      const double g2 = sum_sq(o);
      if (dt == kFloat64) {
        const double gram_tol = 4.0 * static_cast<double>(N + V) * DBL_EPSILON * g2;
        for (size_t i = 0; i < o.size(); ++i) {
          INFO("sigma_" << i + 1);
          CHECK(std::fabs(s.singular_values[i] * s.singular_values[i] - o[i] * o[i]) <= gram_tol);
        }
        // rank <= min(valid rows, V - 1) (softmax rows sum to zero): the rest are exact zeros
        const int64_t rank_cap = std::min(N - ignored, V - 1);
        for (size_t i = static_cast<size_t>(rank_cap); i < o.size(); ++i) CHECK(s.singular_values[i] == 0.0);
        check_counts(s, o, 1e-9);
      } else {
        for (size_t i = 0; i < o.size(); ++i) {
          INFO("sigma_" << i + 1);
          CHECK(std::fabs(s.singular_values[i] - o[i]) <= 1e-5 * std::sqrt(g2));
        }
        check_counts(s, o, 1e-4);
      }
      CHECK(m.logit_grad_norm * m.logit_grad_norm == Approx(sum_sq(s.singular_values)).epsilon(1e-5));
      CHECK(s.eym_bound_2d == Approx(eym_of(o, 2 * D)).margin(1e-5));
    }
}

TEST_CASE("spectrum, randomized: flat G within 1e-3 of dgesdd on the top k, and its error estimates",
          "[analysis][spectrum]") {
  // A Gaussian G has the flattest top of the spectrum a range finder meets (Marchenko-Pastur: the
  // leading values crowd at the edge). The randomized path is forced at this small size through
  // exact_spectrum_max_side; defaults otherwise (l = 2k + 10, adaptive passes, rtol 1e-3).
  for (DType dt : {kFloat64, kFloat32})
    for (auto [N, V] : {std::pair<int64_t, int64_t>{150, 400}, {400, 150}}) {
      INFO(dtype_name(dt) << " G [" << N << ", " << V << "]");
      const Tensor G = op::to(rnd({N, V}, 80), dt);
      const std::vector<double> o = oracle(G);
      const HeadBasis basis = head_basis(op::to(rnd({V, 4}, 81), dt));
      HeadMetricsOptions opt;
      opt.topk = 16;
      opt.exact_spectrum_max_side = 0;
      const HeadMetrics m = grad_metrics(G, Tensor(), basis, opt);
      const SpectrumMetrics& s = m.spectrum;
      REQUIRE_FALSE(s.exact);
      REQUIRE(s.singular_values.size() == 16);
      CHECK(s.columns == 42);
      CHECK(s.passes < opt.max_power_iters + 2);  // stopped by convergence, not by the cap
      double worst = 0;
      for (size_t i = 0; i < 16; ++i) {
        INFO("sigma_" << i + 1 << " = " << s.singular_values[i] << ", dgesdd " << o[i]);
        CHECK(s.singular_values[i] <= o[i] * (1 + 1e-6));  // Ritz values lie below (float32: rounding)
        const double err = o[i] / s.singular_values[i] - 1;
        CHECK(err < 1e-3);
        worst = std::max(worst, err);
      }
      // value_error met the stopping rule and is of the size of the true error (an estimate, not a
      // bound: within the factor 4 the stopping rule keeps in reserve)
      CHECK(s.value_error <= opt.spectrum_rtol / 4);
      CHECK(worst <= 4 * s.value_error + 1e-6);
      // residual bounds (a) the relative tail beyond the l = 42 columns and (b), squared, the energy
      // missing from the reported top k. float32: ||G||_F^2 and ||G P||_F^2 round at ~1e-7.
      const double g2 = sum_sq(o), slack = dt == kFloat64 ? 1e-12 : 1e-6;
      CHECK(s.residual >= std::sqrt(sum_sq(o, 42) / g2) - slack);
      CHECK(s.residual * s.residual >= (sum_sq(o, 0, 16) - sum_sq(s.singular_values)) / g2 - slack);
      CHECK(s.residual < 1);
    }
}

TEST_CASE("spectrum: the threshold option picks the path, forcing exact beyond it respects the budget",
          "[analysis][spectrum]") {
  const Tensor G = rnd({30, 50}, 90);
  const HeadBasis basis = head_basis(rnd({50, 2}, 91));
  HeadMetricsOptions opt;
  opt.topk = 4;
  opt.exact_spectrum_max_side = 30;  // min(N, V) = 30: exact
  CHECK(grad_metrics(G, Tensor(), basis, opt).spectrum.exact);
  opt.exact_spectrum_max_side = 29;  // randomized
  const HeadMetrics r = grad_metrics(G, Tensor(), basis, opt);
  CHECK_FALSE(r.spectrum.exact);
  CHECK(r.spectrum.residual > 0);
  opt.exact_spectrum = true;  // forced: the Gram [30, 30] is 7200 bytes, within the default budget
  CHECK(grad_metrics(G, Tensor(), basis, opt).spectrum.exact);
  opt.memory_budget_bytes = 4096;
  CHECK_THROWS_WITH(grad_metrics(G, Tensor(), basis, opt), Catch::Contains("exact_spectrum needs"));
}

TEST_CASE("spectrum JSON: exact, residual and value_error", "[analysis][spectrum][json]") {
  const Tensor G = rnd({20, 30}, 95);
  const HeadBasis basis = head_basis(rnd({30, 2}, 96));
  HeadMetricsOptions opt;
  opt.topk = 5;
  nlohmann::json j = nlohmann::json::parse(to_json(grad_metrics(G, Tensor(), basis, opt)));
  CHECK(j["spectrum"]["exact"] == true);
  CHECK(j["spectrum"]["residual"].get<double>() == 0);
  CHECK(j["spectrum"]["value_error"].get<double>() == 0);
  opt.exact_spectrum_max_side = 0;
  opt.topk = 3;  // l = 2k + 10 = 16 < 20: the subspace misses part of G (at k = 5 it would not)
  j = nlohmann::json::parse(to_json(grad_metrics(G, Tensor(), basis, opt)));
  CHECK(j["spectrum"]["exact"] == false);
  REQUIRE(j["spectrum"]["residual"].is_number());
  CHECK(j["spectrum"]["residual"].get<double>() > 0);
  CHECK(j["spectrum"]["residual"].get<double>() < 1);
  CHECK(j["spectrum"]["value_error"].is_number());
  opt.topk = 0;  // no spectrum: NaN -> null
  j = nlohmann::json::parse(to_json(grad_metrics(G, Tensor(), basis, opt)));
  CHECK(j["spectrum"]["exact"] == false);
  CHECK(j["spectrum"]["residual"].is_null());
  CHECK(j["spectrum"]["value_error"].is_null());
}

TEST_CASE("sym_eigenvalues: known spectrum, descending, both variants, errors", "[tensor][lapack]") {
  // A = Q diag(3, 2, 1, 0, -1) Q^T
  const std::vector<double> lam = {3, 2, 1, 0, -1};
  const Tensor Q = op::orthonormal_basis(rnd({5, 5}, 97)).Q;
  const Tensor A = op::matmul(op::mul(Q, from_vector(lam, {1, 5})), Q, false, true);
  const Tensor A_copy = op::clone(A);
  const std::vector<double> w = op::sym_eigenvalues(A);
  REQUIRE(w.size() == 5);
  for (size_t i = 0; i < 5; ++i) CHECK(w[i] == Approx(lam[i]).margin(1e-13));
  CHECK(op::sum(op::abs(op::sub(A, A_copy))).item<double>() == 0);  // untouched
  const std::vector<double> w32 = op::sym_eigenvalues(op::to(A, kFloat32));
  for (size_t i = 0; i < 5; ++i) CHECK(w32[i] == Approx(lam[i]).margin(1e-6));
  const std::vector<double> w_ = op::sym_eigenvalues_(op::clone(A));
  for (size_t i = 0; i < 5; ++i) CHECK(w_[i] == Approx(lam[i]).margin(1e-13));
  CHECK(op::sym_eigenvalues(zeros({0, 0}, kFloat64)).empty());
  CHECK_THROWS_WITH(op::sym_eigenvalues(zeros({2, 3}, kFloat64)),
                    Catch::Contains("sym_eigenvalues: expected a square matrix, got [2, 3]"));
  CHECK_THROWS_WITH(op::sym_eigenvalues(zeros({2, 2}, kInt64)), Catch::Contains("floating-point"));
  std::vector<double> bad = {1, 0, 0, std::nan("")};
  CHECK_THROWS_WITH(op::sym_eigenvalues(from_vector(bad, {2, 2})), Catch::Contains("NaN or Inf"));
  // only the upper triangle (i <= j) is read: garbage below it changes nothing
  std::vector<double> upper = A.to_vector<double>();
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t j = 0; j < i; ++j) upper[static_cast<size_t>(i * 5 + j)] = 1e3 * static_cast<double>(i + j);
  const std::vector<double> wu = op::sym_eigenvalues(from_vector(upper, {5, 5}));
  for (size_t i = 0; i < 5; ++i) CHECK(wu[i] == Approx(lam[i]).margin(1e-13));
}

TEST_CASE("syrk_: the upper triangle of A A^T and A^T A, accumulated", "[tensor][lapack]") {
  const Tensor A = op::narrow(rnd({7, 6}, 98), 1, 0, 4);  // [7, 4], strided (row stride 6)
  for (bool trans : {false, true}) {
    INFO("trans " << trans);
    const int64_t n = trans ? 4 : 7;
    const Tensor C = full({n, n}, 0.5, kFloat64);
    op::syrk_(C, A, trans);
    op::syrk_(C, op::contiguous(A), trans);  // twice: it accumulates
    const Tensor AA = trans ? op::matmul(A, A, true, false) : op::matmul(A, A, false, true);
    const std::vector<double> c = C.to_vector<double>(), r = op::add(op::mul(AA, 2.0), 0.5).to_vector<double>();
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = i; j < n; ++j) {
        const size_t e = static_cast<size_t>(i * n + j);
        CHECK(c[e] == Approx(r[e]).epsilon(1e-13));
      }
  }
  CHECK_THROWS_WITH(op::syrk_(zeros({7, 7}, kFloat64), A, true),
                    Catch::Contains("syrk_: A float64 [7, 4]^T does not give C [7, 7]"));
  CHECK_THROWS_WITH(op::syrk_(zeros({7, 7}, kFloat32), A, false), Catch::Contains("syrk_: C must be a contiguous float64"));
}
