// analysis/jacobian_metric: the per-token Jacobian bottleneck. For linear heads it must equal the
// column-space metric of head_bottleneck.h (1e-10, float64: both are exact projections computed
// in a different order); for a non-linear head whose Jacobian's column space moves from token to
// token, it must match a reference built here from central finite differences of the head and
// the normal equations (1e-7: the differences' truncation error is ~eps^2 = 1e-12 relative).
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "analysis/head_bottleneck.h"
#include "analysis/jacobian_metric.h"
#include "autograd/ops.h"
#include "tensor/ops.h"

using namespace gs;
using namespace gs::analysis;
using Catch::Matchers::Contains;

namespace {

Tensor rnd(const Shape& s, uint64_t seed) {
  Generator g(seed);
  return randn(s, g, kFloat64);
}

// A logit gradient with a few all-zero rows (ignored targets).
Tensor gradient_with_zero_rows(int64_t N, int64_t V, uint64_t seed) {
  std::vector<double> g = rnd({N, V}, seed).to_vector<double>();
  for (int64_t i = 2; i < N; i += 5)
    for (int64_t v = 0; v < V; ++v) g[i * V + v] = 0;
  return from_vector(g, {N, V});
}

// Solves the small symmetric positive definite system A x = b (Gaussian elimination, no pivoting
// needed for SPD).
std::vector<double> solve_spd(std::vector<double> A, std::vector<double> b, int64_t n) {
  for (int64_t k = 0; k < n; ++k)
    for (int64_t i = k + 1; i < n; ++i) {
      const double f = A[i * n + k] / A[k * n + k];
      for (int64_t j = k; j < n; ++j) A[i * n + j] -= f * A[k * n + j];
      b[i] -= f * b[k];
    }
  std::vector<double> x(static_cast<size_t>(n));
  for (int64_t i = n - 1; i >= 0; --i) {
    double s = b[i];
    for (int64_t j = i + 1; j < n; ++j) s -= A[i * n + j] * x[j];
    x[i] = s / A[i * n + i];
  }
  return x;
}

}  // namespace

TEST_CASE("jacobian metric: a full head gives the column-space figures", "[analysis][jacobian]") {
  const int64_t N = 12, D = 6, V = 40;
  const Tensor W = rnd({V, D}, 1), H = rnd({N, D}, 2), G = gradient_with_zero_rows(N, V, 3);
  const JacobianMetrics j = jacobian_destroyed([&](const Tensor& h) { return matmul(h, transpose(W, 0, 1)); }, H, G);
  const HeadMetrics c = grad_metrics(G, H, head_basis(W));
  CHECK(j.tokens == c.per_token.count);
  CHECK(j.min_rank == D);
  CHECK(j.max_rank == D);
  CHECK(j.jvps == D);  // one chunk
  CHECK(std::abs(j.destroyed_fraction - c.destroyed_fraction) < 1e-10);
  CHECK(std::abs(j.visible_norm - c.visible_norm) < 1e-10 * c.logit_grad_norm);
  CHECK(std::abs(j.logit_grad_norm - c.logit_grad_norm) < 1e-12 * c.logit_grad_norm);
  CHECK(std::abs(j.per_token.mean - c.per_token.mean) < 1e-10);
  CHECK(std::abs(j.per_token.p95 - c.per_token.p95) < 1e-10);
}

TEST_CASE("jacobian metric: a factorized head of rank r < D, chunked, gives the column-space figures of U",
          "[analysis][jacobian]") {
  const int64_t N = 9, D = 6, r = 3, V = 30;
  const Tensor Dn = rnd({r, D}, 4), U = rnd({V, r}, 5), H = rnd({N, D}, 6), G = rnd({N, V}, 7);
  JacobianMetricOptions o;
  o.chunk = 4;  // three chunks: 4, 4, 1 rows
  const JacobianMetrics j = jacobian_destroyed(
      [&](const Tensor& h) { return matmul(matmul(h, transpose(Dn, 0, 1)), transpose(U, 0, 1)); }, H, G, o);
  const HeadMetrics c = grad_metrics(G, op::matmul(H, op::transpose(Dn, 0, 1)), head_basis(U));
  CHECK(j.min_rank == r);  // J_t = U Dn: rank r although it is V x D
  CHECK(j.max_rank == r);
  CHECK(j.jvps == 3 * D);
  CHECK(std::abs(j.destroyed_fraction - c.destroyed_fraction) < 1e-10);
  CHECK(std::abs(j.per_token.p50 - c.per_token.p50) < 1e-10);
}

TEST_CASE("jacobian metric: a non-linear head against finite differences and the normal equations",
          "[analysis][jacobian]") {
  // z_v = (h . a_v) (h . b_v): row v of J_t is (h . b_v) a_v + (h . a_v) b_v, so col(J_t) moves
  // with h_t and no single matrix describes the head.
  const int64_t N = 7, D = 4, V = 30;
  const Tensor A = rnd({V, D}, 8), B = rnd({V, D}, 9), H = rnd({N, D}, 10), G = rnd({N, V}, 11);
  auto f = [&](const Tensor& h) { return mul(matmul(h, transpose(A, 0, 1)), matmul(h, transpose(B, 0, 1))); };
  const JacobianMetrics j = jacobian_destroyed(f, H, G);

  const std::vector<double> h = H.to_vector<double>(), g = G.to_vector<double>();
  const double eps = 1e-6;
  double total = 0, destroyed = 0;
  for (int64_t t = 0; t < N; ++t) {
    std::vector<double> J(static_cast<size_t>(V * D));  // [V, D]
    for (int64_t i = 0; i < D; ++i) {
      std::vector<double> hp(h.begin() + t * D, h.begin() + (t + 1) * D), hm = hp;
      hp[i] += eps, hm[i] -= eps;
      const std::vector<double> zp = op::mul(op::matmul(from_vector(hp, {1, D}), op::transpose(A, 0, 1)),
                                             op::matmul(from_vector(hp, {1, D}), op::transpose(B, 0, 1)))
                                         .to_vector<double>();
      const std::vector<double> zm = op::mul(op::matmul(from_vector(hm, {1, D}), op::transpose(A, 0, 1)),
                                             op::matmul(from_vector(hm, {1, D}), op::transpose(B, 0, 1)))
                                         .to_vector<double>();
      for (int64_t v = 0; v < V; ++v) J[v * D + i] = (zp[v] - zm[v]) / (2 * eps);
    }
    std::vector<double> JtJ(static_cast<size_t>(D * D), 0.0), Jtg(static_cast<size_t>(D), 0.0);
    for (int64_t v = 0; v < V; ++v)
      for (int64_t a = 0; a < D; ++a) {
        Jtg[a] += J[v * D + a] * g[t * V + v];
        for (int64_t b = 0; b < D; ++b) JtJ[a * D + b] += J[v * D + a] * J[v * D + b];
      }
    const std::vector<double> x = solve_spd(JtJ, Jtg, D);
    for (int64_t v = 0; v < V; ++v) {
      double p = 0;
      for (int64_t a = 0; a < D; ++a) p += J[v * D + a] * x[a];
      const double gv = g[t * V + v];
      destroyed += (gv - p) * (gv - p);
      total += gv * gv;
    }
  }
  const double ref = std::sqrt(destroyed / total);
  INFO("jacobian " << j.destroyed_fraction << " finite differences " << ref);
  CHECK(std::abs(j.destroyed_fraction - ref) < 1e-7);
  // and it is not the figure of any fixed matrix: the column space of A alone gives another value
  const HeadMetrics fixed = grad_metrics(G, H, head_basis(A));
  CHECK(std::abs(fixed.destroyed_fraction - ref) > 1e-3);
}

TEST_CASE("jacobian metric: errors name the function and what is wrong", "[analysis][jacobian][errors]") {
  const Tensor W = rnd({10, 3}, 1), H = rnd({4, 3}, 2);
  auto f = [&](const Tensor& h) { return matmul(h, transpose(W, 0, 1)); };
  CHECK_THROWS_WITH(jacobian_destroyed(f, H, rnd({5, 10}, 3)),
                    Contains("jacobian_destroyed: G must be [N, V] with H's N = 4, got [5, 10]"));
  CHECK_THROWS_WITH(jacobian_destroyed(f, H, rnd({4, 11}, 3)),
                    Contains("jacobian_destroyed: the head maps [4, 3] to [4, 10], expected [4, 11]"));
  CHECK_THROWS_WITH(jacobian_destroyed(f, H, zeros({4, 10}, kFloat64)), Contains("no non-zero row"));
}
