// analysis/head_bottleneck: head metrics against closed forms and an explicit N x V computation
// at small sizes (float64 unless stated). The orthonormal basis is checked on its own first,
// then used by the explicit reference. Spectrum tests: tests/test_analysis_head_spectrum.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "analysis/head_bottleneck.h"
#include "tensor/ops.h"
#include "tensor/lapack.h"

using namespace gs;
using namespace gs::analysis;

namespace {

Tensor rnd(const Shape& s, uint64_t seed, double std = 1.0, DType dt = kFloat64) {
  Generator g(seed);
  return randn(s, g, dt, 0.0, std);
}

Tensor targets_with_ignored(int64_t N, int64_t V, uint64_t seed, int64_t every) {
  Generator g(seed);
  std::vector<int64_t> t(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) t[i] = (every && i % every == 2) ? -100 : g.randint(V);
  return from_vector(t, {N});
}

Tensor eye(int64_t n) {
  std::vector<double> e(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) e[i * n + i] = 1;
  return from_vector(e, {n, n});
}

double max_abs(const Tensor& x) {
  double m = 0;
  for (double v : x.to_vector<double>()) m = std::max(m, std::fabs(v));
  return m;
}

double fro(const Tensor& x) {
  double s = 0;
  for (double v : x.to_vector<double>()) s += v * v;
  return std::sqrt(s);
}

double rel(double a, double b) { return std::fabs(a - b) / std::max(std::fabs(b), 1e-300); }

// G = (softmax(H W^T) - onehot) / n_valid by plain loops in double (ignored rows 0), and the loss.
Tensor explicit_grad(const Tensor& H, const Tensor& W, const Tensor& y, double* loss) {
  const Tensor Z = op::matmul(H, W, false, true);
  const int64_t N = Z.shape()[0], V = Z.shape()[1];
  const std::vector<double> z = Z.to_vector<double>();
  const std::vector<int64_t> t = y.to_vector<int64_t>();
  int64_t n = 0;
  for (int64_t v : t) n += v != -100;
  std::vector<double> g(static_cast<size_t>(N * V), 0.0);
  double L = 0;
  for (int64_t i = 0; i < N; ++i) {
    if (t[i] == -100) continue;
    double m = -INFINITY, s = 0;
    for (int64_t j = 0; j < V; ++j) m = std::max(m, z[i * V + j]);
    for (int64_t j = 0; j < V; ++j) s += std::exp(z[i * V + j] - m);
    const double lse = m + std::log(s);
    L += lse - z[i * V + t[i]];
    for (int64_t j = 0; j < V; ++j) g[i * V + j] = (std::exp(z[i * V + j] - lse) - (j == t[i])) / n;
  }
  if (loss) *loss = L / n;
  return from_vector(g, {N, V});
}

double percentile(std::vector<double> v, double q) {  // NumPy's default (linear)
  std::sort(v.begin(), v.end());
  const double pos = q * (v.size() - 1);
  const size_t lo = static_cast<size_t>(pos), hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

}  // namespace

TEST_CASE("orthonormal_basis: Q^T Q = I, Q coeffs = W, rank and singular values", "[analysis][basis]") {
  // float64 Householder QR: orthonormality and reconstruction to a few hundred ulps of ||W||.
  const Tensor W = rnd({50, 8}, 1);
  const op::OrthonormalBasis b = op::orthonormal_basis(W);
  REQUIRE(b.rank == 8);
  REQUIRE(b.Q.shape() == Shape{50, 8});
  CHECK(max_abs(op::sub(op::matmul(b.Q, b.Q, true, false), eye(8))) < 1e-13);
  CHECK(max_abs(op::sub(op::matmul(b.Q, b.coeffs), W)) < 1e-13);
  const std::vector<double> s = op::svd_values(W);
  for (int i = 0; i < 8; ++i) CHECK(rel(b.singular_values[i], s[i]) < 1e-12);

  SECTION("duplicate columns: rank D - 1, same column space") {
    std::vector<double> w = W.to_vector<double>();
    for (int64_t i = 0; i < 50; ++i) w[i * 8 + 5] = w[i * 8 + 1];
    const Tensor Wd = from_vector(w, {50, 8});
    const op::OrthonormalBasis bd = op::orthonormal_basis(Wd);
    REQUIRE(bd.rank == 7);
    REQUIRE(bd.Q.shape() == Shape{50, 7});
    CHECK(bd.singular_values[7] < 1e-12 * bd.singular_values[0]);
    CHECK(max_abs(op::sub(op::matmul(bd.Q, bd.Q, true, false), eye(7))) < 1e-13);
    CHECK(max_abs(op::sub(op::matmul(bd.Q, bd.coeffs), Wd)) < 1e-12);
  }
  SECTION("float32 input: float32 Q, orthonormal to float32 rounding") {
    const op::OrthonormalBasis bf = op::orthonormal_basis(op::to(W, kFloat32));
    REQUIRE(bf.Q.dtype() == kFloat32);
    CHECK(max_abs(op::sub(op::to(op::matmul(bf.Q, bf.Q, true, false), kFloat64), eye(8))) < 1e-6);
  }
  SECTION("zero matrix: rank 0") { CHECK(op::orthonormal_basis(zeros({6, 3}, kFloat64)).rank == 0); }
  SECTION("NaN or Inf entries: a clear error, not a bare LAPACK code") {
    for (double bad : {std::nan(""), HUGE_VAL}) {
      std::vector<double> w(12, 1.0);
      w[7] = bad;
      const Tensor A = from_vector(w, {4, 3});
      CHECK_THROWS_WITH(op::orthonormal_basis(A), "orthonormal_basis: A [4, 3] has NaN or Inf entries");
      CHECK_THROWS_WITH(op::svd_values(op::to(A, kFloat32)), "svd_values: A [4, 3] has NaN or Inf entries");
    }
    // huge but finite float64 entries are not mistaken for Inf (their squares would overflow)
    const op::OrthonormalBasis big = op::orthonormal_basis(tensor({{1e200, 0}, {0, 3e199}, {0, 0}}, kFloat64));
    CHECK(big.rank == 2);
    REQUIRE(big.singular_values.size() == 2);
    CHECK(big.singular_values[0] == Approx(1e200).epsilon(1e-14));
    CHECK(big.singular_values[1] == Approx(3e199).epsilon(1e-14));
  }
  SECTION("singular values of a known matrix") {
    const std::vector<double> sv = op::svd_values(tensor({{0, -3, 0}, {2, 0, 0}}, kFloat64));
    REQUIRE(sv.size() == 2);
    CHECK(sv[0] == Approx(3).epsilon(1e-14));
    CHECK(sv[1] == Approx(2).epsilon(1e-14));
  }
}

TEST_CASE("head metrics: V == D with invertible W destroys nothing", "[analysis]") {
  // col(W) = R^V: every row is visible. The destroyed part is computed directly for such rows,
  // so it is rounding-level (~1e-16 relative), not sqrt(eps) as a subtraction would give.
  const int64_t N = 20, V = 12;
  const HeadMetrics m = head_metrics(rnd({N, V}, 2), rnd({V, V}, 3), targets_with_ignored(N, V, 4, 0));
  CHECK(m.basis_rank == V);
  CHECK(m.destroyed_fraction < 1e-13);
  CHECK(m.per_token.p95 < 1e-13);
  CHECK(m.visible_cosine == Approx(1).epsilon(1e-14));
  CHECK(m.run.direct_rows == N);
}

TEST_CASE("head metrics: rows of G inside col(W) -> 0, orthogonal -> 1", "[analysis]") {
  SECTION("softmax path: col(W) = the sum-zero subspace, which holds every softmax - onehot row") {
    // V = D + 1 and W's columns span 1^perp: G's rows all sum to zero, so nothing is destroyed.
    const int64_t N = 15, D = 9, V = D + 1;
    const Tensor B = op::orthonormal_basis(op::sub(eye(V), full({V, V}, 1.0 / V, kFloat64))).Q;
    REQUIRE(B.shape() == Shape{V, D});
    const Tensor W = op::matmul(B, rnd({D, D}, 5));
    const HeadMetrics m = head_metrics(rnd({N, D}, 6), W, targets_with_ignored(N, V, 7, 0));
    CHECK(m.destroyed_fraction < 1e-13);
    CHECK(m.per_token.mean < 1e-13);
  }
  SECTION("softmax path: col(W) = span(1), orthogonal to every row of G") {
    // D = 1, W = c 1: logits are equal per row, G's rows sum to zero: all destroyed, and
    // G W = 0 so the backbone term vanishes.
    const int64_t N = 11, V = 17;
    const HeadMetrics m = head_metrics(rnd({N, 1}, 8), full({V, 1}, 0.7, kFloat64), targets_with_ignored(N, V, 9, 0));
    CHECK(m.destroyed_fraction == Approx(1).epsilon(1e-14));
    CHECK(m.visible_norm < 1e-15);
    CHECK(m.per_token.p5 == Approx(1).epsilon(1e-14));
    CHECK(m.update.backbone_term_norm < 1e-15);
    CHECK(m.loss == Approx(std::log(17.0)).epsilon(1e-14));
  }
  SECTION("explicit G = C W^T (inside) and G = C P^T with P orthogonal to col(W)") {
    const int64_t N = 25, V = 30, D = 6;
    const Tensor Qfull = op::orthonormal_basis(rnd({V, V}, 10)).Q;
    const Tensor Win = op::matmul(op::narrow(Qfull, 1, 0, D), rnd({D, D}, 11));
    const Tensor Perp = op::contiguous(op::narrow(Qfull, 1, D, V - D));
    const HeadBasis basis = head_basis(Win);
    const HeadMetrics in = grad_metrics(op::matmul(rnd({N, D}, 12), Win, false, true), Tensor(), basis);
    CHECK(in.destroyed_fraction < 1e-13);
    CHECK(in.per_token.p95 < 1e-13);
    const HeadMetrics out = grad_metrics(op::matmul(rnd({N, V - D}, 13), Perp, false, true), Tensor(), basis);
    CHECK(out.destroyed_fraction == Approx(1).epsilon(1e-13));
    CHECK(out.visible_cosine < 1e-13);
    CHECK(out.per_token.p5 == Approx(1).epsilon(1e-13));
    CHECK(std::isnan(out.loss));
    CHECK(std::isnan(out.update.cosine));  // no H: no update terms
  }
}

TEST_CASE("head metrics: isotropic G rows keep D/V of their squared norm", "[analysis]") {
  // Rows g_i ~ N(0, I_V) independent of W: sum_i ||Q^T g_i||^2 / sum_i ||g_i||^2 is exactly
  // Beta(N D / 2, N (V - D) / 2), mean D/V, sd sqrt(ab / ((a+b)^2 (a+b+1))) = 4.7e-4 here.
  // Tolerance: 5 sd (the data are seeded, so this is also reproducible).
  const int64_t N = 2000, V = 400, D = 40;
  const HeadMetrics m = grad_metrics(rnd({N, V}, 14), Tensor(), head_basis(rnd({V, D}, 15)));
  const double a = N * D / 2.0, b = N * (V - D) / 2.0;
  const double sd = std::sqrt(a * b / ((a + b) * (a + b) * (a + b + 1)));
  CHECK(std::fabs(m.destroyed_fraction * m.destroyed_fraction - (1.0 - double(D) / V)) < 5 * sd);
  CHECK(std::fabs(m.visible_cosine * m.visible_cosine - double(D) / V) < 5 * sd);
  CHECK(m.run.direct_rows == 0);  // ~90 % destroyed per row: the subtraction is safe
}

TEST_CASE("head metrics: chunked pass equals an explicit N x V computation", "[analysis]") {
  // Every quantity is a float64 sum of a few thousand terms here: agreement to 1e-10 relative
  // leaves ample room over rounding (~1e-14) while catching any wrong formula.
  const int64_t N = 37, V = 53, D = 6;
  const Tensor H = rnd({N, D}, 16, 1.5), W = rnd({V, D}, 17), y = targets_with_ignored(N, V, 18, 5);
  double loss = 0;
  const Tensor G = explicit_grad(H, W, y, &loss);
  const HeadBasis basis = head_basis(W);
  const Tensor GQ = op::matmul(G, basis.Q);
  const Tensor Gd = op::sub(G, op::matmul(GQ, basis.Q, false, true));
  // U = G W W^T + Hm Hm^T G with ignored rows of H zeroed (only valid rows are updated).
  std::vector<double> hm = H.to_vector<double>();
  const std::vector<int64_t> t = y.to_vector<int64_t>();
  std::vector<double> ratios;
  const std::vector<double> g = G.to_vector<double>(), gd = Gd.to_vector<double>();
  for (int64_t i = 0; i < N; ++i) {
    if (t[i] == -100) {
      for (int64_t k = 0; k < D; ++k) hm[i * D + k] = 0;
      continue;
    }
    double a = 0, b = 0;
    for (int64_t j = 0; j < V; ++j) a += gd[i * V + j] * gd[i * V + j], b += g[i * V + j] * g[i * V + j];
    ratios.push_back(std::sqrt(a / b));
  }
  const Tensor Hm = from_vector(hm, {N, D});
  const Tensor T1 = op::matmul(op::matmul(G, W), W, false, true);
  const Tensor T2 = op::matmul(Hm, op::matmul(Hm, G, true, false));
  const Tensor U = op::add(T1, T2);
  const double cosine = op::sum(op::mul(U, G)).item<double>() / (fro(U) * fro(G));

  for (int64_t chunk : {int64_t{1}, int64_t{7}, N}) {
    HeadMetricsOptions o;
    o.chunk = chunk;
    const HeadMetrics m = head_metrics(H, W, y, o);
    INFO("chunk " << chunk);
    CHECK(m.tokens == static_cast<int64_t>(ratios.size()));
    CHECK(rel(m.loss, loss) < 1e-10);
    CHECK(rel(m.logit_grad_norm, fro(G)) < 1e-10);
    CHECK(rel(m.visible_norm, fro(GQ)) < 1e-10);
    CHECK(rel(m.destroyed_fraction, fro(Gd) / fro(G)) < 1e-10);
    CHECK(rel(m.hidden_grad_norm, fro(op::matmul(G, W))) < 1e-10);
    CHECK(rel(m.per_token.mean, [&] { double s = 0; for (double r : ratios) s += r; return s / ratios.size(); }()) < 1e-10);
    CHECK(rel(m.per_token.p5, percentile(ratios, 0.05)) < 1e-10);
    CHECK(rel(m.per_token.p50, percentile(ratios, 0.50)) < 1e-10);
    CHECK(rel(m.per_token.p95, percentile(ratios, 0.95)) < 1e-10);
    CHECK(rel(m.update.backbone_term_norm, fro(T1)) < 1e-10);
    CHECK(rel(m.update.head_term_norm, fro(T2)) < 1e-10);
    CHECK(rel(m.update.cosine, cosine) < 1e-10);
    CHECK(m.update.rank_bound == 2 * D);
  }
}

TEST_CASE("head metrics: chunk sizes 1, 7 and N agree to 1e-10, spectrum included", "[analysis]") {
  // Rows are independent, so only the order of float64 accumulation changes with the chunk.
  const int64_t N = 40, V = 70, D = 5;
  const Tensor H = rnd({N, D}, 19, 2.0), W = rnd({V, D}, 20), y = targets_with_ignored(N, V, 21, 6);
  std::vector<HeadMetrics> ms;
  for (int64_t chunk : {int64_t{1}, int64_t{7}, N}) {
    HeadMetricsOptions o;
    o.chunk = chunk;
    o.topk = 6;
    ms.push_back(head_metrics(H, W, y, o));
  }
  const HeadMetrics& r = ms[2];
  for (const HeadMetrics& m : ms) {
    for (auto [a, b] : {std::pair{m.loss, r.loss}, {m.logit_grad_norm, r.logit_grad_norm},
                        {m.visible_norm, r.visible_norm}, {m.destroyed_fraction, r.destroyed_fraction},
                        {m.per_token.mean, r.per_token.mean}, {m.per_token.p95, r.per_token.p95},
                        {m.update.cosine, r.update.cosine}, {m.update.head_term_norm, r.update.head_term_norm},
                        {m.update.backbone_term_norm, r.update.backbone_term_norm}})
      CHECK(rel(a, b) < 1e-10);
    REQUIRE(m.spectrum.singular_values.size() == 6);
    for (int i = 0; i < 6; ++i) CHECK(rel(m.spectrum.singular_values[i], r.spectrum.singular_values[i]) < 1e-10);
  }
}

TEST_CASE("head metrics: ignore_index rows are excluded", "[analysis]") {
  // Same metrics (to rounding) as the batch with those rows removed, spectrum included.
  const int64_t N = 30, V = 45, D = 7;
  const Tensor H = rnd({N, D}, 22), W = rnd({V, D}, 23), y = targets_with_ignored(N, V, 24, 4);
  const std::vector<int64_t> t = y.to_vector<int64_t>();
  std::vector<Tensor> rows;
  std::vector<int64_t> ty;
  for (int64_t i = 0; i < N; ++i)
    if (t[i] != -100) rows.push_back(op::narrow(H, 0, i, 1)), ty.push_back(t[i]);
  HeadMetricsOptions o;
  o.topk = 5;
  const HeadMetrics a = head_metrics(H, W, y, o);
  const HeadMetrics b = head_metrics(op::concat(rows, 0), W, from_vector(ty), o);
  CHECK(a.tokens == static_cast<int64_t>(ty.size()));
  CHECK(a.tokens < N);
  for (auto [x, z] : {std::pair{a.loss, b.loss}, {a.logit_grad_norm, b.logit_grad_norm},
                      {a.destroyed_fraction, b.destroyed_fraction}, {a.per_token.mean, b.per_token.mean},
                      {a.per_token.p5, b.per_token.p5}, {a.update.cosine, b.update.cosine},
                      {a.update.head_term_norm, b.update.head_term_norm}, {a.spectrum.singular_values[4], b.spectrum.singular_values[4]}})
    CHECK(rel(x, z) < 1e-10);
  CHECK(a.per_token.count == b.per_token.count);
}

TEST_CASE("head metrics: rank-deficient W (duplicate column) uses its rank", "[analysis]") {
  // W with column 4 = column 1 spans what W without column 4 spans: same visible/destroyed.
  const int64_t N = 24, V = 40, D = 6;
  const Tensor H = rnd({N, D}, 25), y = targets_with_ignored(N, V, 26, 0);
  std::vector<double> w = rnd({V, D}, 27).to_vector<double>();
  for (int64_t i = 0; i < V; ++i) w[i * D + 4] = w[i * D + 1];
  const Tensor W = from_vector(w, {V, D});
  const HeadMetrics m = head_metrics(H, W, y);
  CHECK(m.basis_rank == D - 1);
  const Tensor G = explicit_grad(H, W, y, nullptr);
  std::vector<double> w5;
  for (int64_t i = 0; i < V; ++i)
    for (int64_t k = 0; k < D; ++k)
      if (k != 4) w5.push_back(w[i * D + k]);
  const HeadMetrics ref = grad_metrics(G, Tensor(), head_basis(from_vector(w5, {V, D - 1})));
  CHECK(rel(m.destroyed_fraction, ref.destroyed_fraction) < 1e-10);
  CHECK(rel(m.per_token.p50, ref.per_token.p50) < 1e-10);
  // the update terms still use W itself: G W W^T computed through Q and Q^T W is exact
  CHECK(rel(m.update.backbone_term_norm, fro(op::matmul(op::matmul(G, W), W, false, true))) < 1e-10);
}

TEST_CASE("head metrics: float32 inputs agree with float64", "[analysis]") {
  // float32 logits carry ~1e-7 relative error per entry (D-term dot products); every metric is a
  // smooth function of them accumulated in float64, so 1e-5 relative is a loose bound.
  const int64_t N = 64, V = 300, D = 16;
  const Tensor H = rnd({N, D}, 28), W = rnd({V, D}, 29, 0.3), y = targets_with_ignored(N, V, 30, 9);
  const HeadMetrics a = head_metrics(H, W, y);
  const HeadMetrics b = head_metrics(op::to(H, kFloat32), op::to(W, kFloat32), y);
  for (auto [x, z] : {std::pair{b.loss, a.loss}, {b.logit_grad_norm, a.logit_grad_norm},
                      {b.destroyed_fraction, a.destroyed_fraction}, {b.visible_norm, a.visible_norm},
                      {b.per_token.p50, a.per_token.p50}, {b.update.cosine, a.update.cosine},
                      {b.update.backbone_term_norm, a.update.backbone_term_norm},
                      {b.update.head_term_norm, a.update.head_term_norm}})
    CHECK(rel(x, z) < 1e-5);
}

TEST_CASE("head metrics: update_terms = false skips only the head term", "[analysis]") {
  const int64_t N = 12, V = 20, D = 4;
  const Tensor H = rnd({N, D}, 38), W = rnd({V, D}, 39), y = targets_with_ignored(N, V, 40, 5);
  HeadMetricsOptions o;
  const HeadMetrics a = head_metrics(H, W, y, o);
  o.update_terms = false;
  const HeadMetrics b = head_metrics(H, W, y, o);
  CHECK(std::isnan(b.update.cosine));
  CHECK(std::isnan(b.update.head_term_norm));
  CHECK(b.update.backbone_term_norm == a.update.backbone_term_norm);
  CHECK(b.destroyed_fraction == a.destroyed_fraction);
  CHECK(b.per_token.p50 == a.per_token.p50);
}

TEST_CASE("split_logit_grad: visible + destroyed = G, destroyed W = 0", "[analysis]") {
  const Tensor W = rnd({30, 5}, 31), G = rnd({8, 30}, 32);
  const LogitGradSplit s = split_logit_grad(G, head_basis(W));
  CHECK(max_abs(op::sub(op::add(s.visible, s.destroyed), G)) < 1e-14);
  CHECK(max_abs(op::matmul(s.destroyed, W)) < 1e-13);  // what the head destroys never reaches H
  CHECK(max_abs(op::sub(op::matmul(s.visible, W), op::matmul(G, W))) < 1e-13);
}

TEST_CASE("head metrics: bad inputs give one clear message", "[analysis][errors]") {
  const Tensor H = rnd({4, 3}, 33), W = rnd({6, 3}, 34), y = from_vector<int64_t>({0, 5, -100, 2});
  using Catch::Contains;
  CHECK_THROWS_WITH(head_metrics(H, rnd({6, 2}, 35), y), Contains("disagree on D"));
  CHECK_THROWS_WITH(head_metrics(H, W, from_vector<int64_t>({0, 6, 1, 1})),
                    Contains("target 6 at row 1 is out of range for V = 6"));
  CHECK_THROWS_WITH(head_metrics(H, W, from_vector<int64_t>({0, -3, 1, 1})), Contains("target -3 at row 1"));
  CHECK_THROWS_WITH(head_metrics(H, W, from_vector<int64_t>({-100, -100, -100, -100})), Contains("no valid targets"));
  CHECK_THROWS_WITH(head_metrics(H, W, from_vector<int64_t>({0, 1, 2})), Contains("targets must be int64 [4]"));
  CHECK_THROWS_WITH(head_metrics(H, W, op::to(y, kFloat32)), Contains("targets must be int64"));
  CHECK_THROWS_WITH(head_metrics(H, op::to(W, kFloat32), y), Contains("H is float64 but W is float32"));
  std::vector<double> h = H.to_vector<double>();
  h[7] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(head_metrics(from_vector(h, {4, 3}), W, y), Contains("H [4, 3] has NaN or Inf (first in row 2)"));
  std::vector<double> w = W.to_vector<double>();
  w[16] = INFINITY;
  CHECK_THROWS_WITH(head_metrics(H, from_vector(w, {6, 3}), y), Contains("W [6, 3] has NaN or Inf (first in row 5)"));
  // finite values whose squares overflow are not "NaN or Inf": they need rescaling, not cleaning
  h = H.to_vector<double>();
  h[4] = 1e300;
  CHECK_THROWS_WITH(head_metrics(from_vector(h, {4, 3}), W, y),
                    Contains("H [4, 3] has entries too large to square in float64 (|x| up to 1e+300 in row 1)"));
  // finite float32 inputs whose logits overflow: G is named, before a NaN reaches the spectrum
  std::vector<float> big(12, 3e38f);
  CHECK_THROWS_WITH(head_metrics(from_vector(big, {4, 3}), op::to(W, kFloat32), y),
                    Contains("the logit gradient G is not finite in row 0 (its logits overflow float32"));
  CHECK_THROWS_WITH(head_metrics(H, W, y, head_basis(rnd({7, 3}, 36))), Contains("does not match W [6, 3]"));
  CHECK_THROWS_WITH(head_metrics(rnd({4}, 37), W, y), Contains("H must be 2-d"));
}
