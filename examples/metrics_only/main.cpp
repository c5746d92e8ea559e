// metrics_only: how much of the logit gradient a head destroys, for H, W and targets that live in
// your own std::vector buffers. No model, no graph: gs::from_vector copies each buffer into a
// tensor and gs::analysis::head_metrics does the rest.
//
// Three checks, each against something computed without gradscope:
//   1. W's rows beyond the first D are zero, so col(W) = span(e_0 .. e_{D-1}) and the destroyed
//      part of each gradient row g is its entries D .. V-1: destroyed_fraction equals
//      sqrt(sum g_v^2 over v >= D / sum g_v^2), computed here with plain loops from the softmax.
//   2. V == D with an invertible W: col(W) is everything, nothing is destroyed.
//   3. Every row of W equal (W = 1 c^T): the head adds the same logit to every token, so it cannot
//      change the softmax; each gradient row sums to zero, i.e. is orthogonal to col(W) = span(1),
//      and all of it is destroyed.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "analysis/head_bottleneck.h"
#include "tensor/creation.h"

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  std::printf("  [%s] %s\n", ok ? "ok" : "FAILED", what);
  if (!ok) ++failures;
}

// destroyed_fraction for W = [A; 0] by hand: G = softmax(H W^T) - onehot on the valid rows (the
// 1 / N_valid scale cancels in the ratio).
double destroyed_by_hand(const std::vector<double>& H, const std::vector<double>& W, const std::vector<int64_t>& y,
                         int64_t N, int64_t D, int64_t V) {
  double total = 0, destroyed = 0;
  std::vector<double> z(static_cast<size_t>(V));
  for (int64_t i = 0; i < N; ++i) {
    if (y[i] == -100) continue;
    double zmax = -INFINITY;
    for (int64_t v = 0; v < V; ++v) {
      double s = 0;
      for (int64_t d = 0; d < D; ++d) s += H[i * D + d] * W[v * D + d];
      z[v] = s;
      zmax = std::max(zmax, s);
    }
    double denom = 0;
    for (int64_t v = 0; v < V; ++v) denom += std::exp(z[v] - zmax);
    for (int64_t v = 0; v < V; ++v) {
      const double g = std::exp(z[v] - zmax) / denom - (v == y[i] ? 1.0 : 0.0);
      total += g * g;
      if (v >= D) destroyed += g * g;
    }
  }
  return std::sqrt(destroyed / total);
}

}  // namespace

int main() {
  namespace ga = gs::analysis;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0.0, 1.0);

  // ---- 1. a head whose column space is the first D coordinates ------------------------------
  const int64_t N = 12, D = 4, V = 16;
  std::vector<double> H(N * D), W(V * D, 0.0);
  std::vector<int64_t> targets(N);
  for (double& h : H) h = normal(rng);
  for (int64_t v = 0; v < D; ++v)
    for (int64_t d = 0; d < D; ++d) W[v * D + d] = normal(rng);  // rows D..V-1 stay zero
  for (int64_t i = 0; i < N; ++i) targets[i] = (3 * i + 1) % V;
  targets[5] = -100;  // an ignored position (padding), excluded from every metric

  const gs::Tensor Ht = gs::from_vector(H, {N, D});  // float64 [N, D]
  const gs::Tensor Wt = gs::from_vector(W, {V, D});  // float64 [V, D]
  const gs::Tensor yt = gs::from_vector(targets);    // int64 [N]
  const ga::HeadMetrics m = ga::head_metrics(Ht, Wt, yt);
  const double expected = destroyed_by_hand(H, W, targets, N, D, V);

  std::printf("1. W = [A; 0]  (N %lld, D %lld, V %lld)\n", static_cast<long long>(N), static_cast<long long>(D),
              static_cast<long long>(V));
  std::printf("   tokens %lld, basis rank %lld, loss %.6f\n", static_cast<long long>(m.tokens),
              static_cast<long long>(m.basis_rank), m.loss);
  std::printf("   destroyed_fraction %.12f (by hand %.12f), visible_cosine %.6f, per-token mean %.6f\n",
              m.destroyed_fraction, expected, m.visible_cosine, m.per_token.mean);
  // float64 throughout; the two computations differ only in summation order (~1e-15).
  check(std::abs(m.destroyed_fraction - expected) < 1e-10, "destroyed_fraction matches the loop over entries >= D");
  check(m.tokens == N - 1, "the ignored target is excluded (tokens == N - 1)");
  check(m.basis_rank == D, "basis rank == D");
  check(std::abs(m.destroyed_fraction * m.destroyed_fraction + m.visible_cosine * m.visible_cosine - 1) < 1e-10,
        "destroyed^2 + visible_cosine^2 == 1");

  // ---- 2. V == D, invertible: nothing is destroyed -------------------------------------------
  const int64_t S = 8;
  std::vector<double> Hs(N * S), Ws(S * S);
  std::vector<int64_t> ys(N);
  for (double& h : Hs) h = normal(rng);
  for (double& w : Ws) w = normal(rng);  // a Gaussian square matrix is invertible with probability 1
  for (int64_t i = 0; i < N; ++i) ys[i] = i % S;
  const ga::HeadMetrics sq = ga::head_metrics(gs::from_vector(Hs, {N, S}), gs::from_vector(Ws, {S, S}),
                                              gs::from_vector(ys));
  std::printf("2. V == D == %lld: destroyed_fraction %.3e\n", static_cast<long long>(S), sq.destroyed_fraction);
  // ||G - G Q Q^T|| with an orthonormal basis of all of R^V is rounding only (~1e-16 relative).
  check(sq.destroyed_fraction < 1e-10, "an invertible square head destroys nothing");

  // ---- 3. every row of W equal: everything is destroyed --------------------------------------
  std::vector<double> Wc(V * D);
  for (int64_t v = 0; v < V; ++v)
    for (int64_t d = 0; d < D; ++d) Wc[v * D + d] = 0.5 + 0.25 * static_cast<double>(d);
  const ga::HeadMetrics eq = ga::head_metrics(Ht, gs::from_vector(Wc, {V, D}), yt);
  std::printf("3. W = 1 c^T: basis rank %lld, destroyed_fraction %.12f\n", static_cast<long long>(eq.basis_rank),
              eq.destroyed_fraction);
  check(eq.basis_rank == 1, "W = 1 c^T has rank 1");
  // each row of G sums to 0 up to rounding, so its component along 1/sqrt(V) is ~1e-16 of it.
  check(eq.destroyed_fraction > 1 - 1e-10, "a head that shifts every logit equally destroys everything");

  if (failures == 0)
    std::printf("metrics_only: all checks passed\n");
  else
    std::printf("metrics_only: %d check(s) FAILED\n", failures);
  return failures == 0 ? 0 : 1;
}
