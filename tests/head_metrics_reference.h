#pragma once
// Shared by the CLI tests that recompute a logged measurement (test_cli_bottleneck.cpp,
// test_cli_backbones.cpp): the inputs a command wrote with --dump-final, and the head metrics of
// analysis/head_bottleneck.h recomputed from their definitions in float64 plain loops, with no
// analysis/ code and no tensor op (only nn::load_npy to read the files). A metric the library
// gets wrong (squared, from a wrong basis, over a wrong count) then disagrees with the log.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "nn/npy.h"

namespace gs::testing {

// Relative tolerance between a logged metric and this reference. The CLI computes from the same
// float32 H and W, but its big products (logits H W^T, G, G Q, G^T H) run in float32, summed in
// float64 (head_bottleneck.h: "the big products run in the input dtype"); this reference is
// float64 throughout. They differ by float32 rounding: a sum of up to V = 256 terms, ~sqrt(V) u =
// 16 * 6e-8 ~ 1e-6 relative, and no metric here subtracts nearly equal numbers (the visible share
// of ||G||^2 is ~k/V). 1e-5 (as test_cli_analyze.cpp uses for the same reason) leaves a factor
// 10. Deliberate errors are far larger: the destroyed fraction squared moves it by d (1 - d) >
// 1e-3, a basis missing one of k = 8 columns moves the visible cosine by ~6%.
inline constexpr double kLoggedMetricRtol = 1e-5;

// What --dump-final wrote: <prefix>H.npy [N, k] (the head's input rows), <prefix>W.npy [V, k] (the
// head matrix), <prefix>targets.npy int64 [N]; values row-major.
struct DumpedHeadInputs {
  int64_t N = 0, V = 0, k = 0;
  std::vector<double> H, W;
  std::vector<int64_t> targets;
};

inline DumpedHeadInputs load_dumped_head_inputs(const std::string& prefix) {
  const Tensor H = nn::load_npy(prefix + "H.npy"), W = nn::load_npy(prefix + "W.npy"),
               t = nn::load_npy(prefix + "targets.npy");
  REQUIRE(H.dim() == 2);
  REQUIRE(W.dim() == 2);
  REQUIRE(W.size(1) == H.size(1));
  REQUIRE(t.dtype() == kInt64);
  REQUIRE(t.shape() == Shape{H.size(0)});
  DumpedHeadInputs in;
  in.N = H.size(0);
  in.V = W.size(0);
  in.k = H.size(1);
  in.H = H.to_vector<double>();
  in.W = W.to_vector<double>();
  in.targets = t.to_vector<int64_t>();
  return in;
}

struct ReferenceHeadMetrics {
  int64_t tokens = 0;  // valid rows
  int64_t rank = 0;    // rank of W found by the Gram-Schmidt below
  double loss = 0, logit_grad_norm = 0, destroyed_fraction = 0, visible_cosine = 0, per_token_destroyed_mean = 0,
         update_cosine = 0;
};

inline ReferenceHeadMetrics reference_head_metrics(const DumpedHeadInputs& in, int64_t ignore_index = -100) {
  const int64_t N = in.N, V = in.V, k = in.k;
  auto h = [&](int64_t i, int64_t c) { return in.H[size_t(i * k + c)]; };
  auto w = [&](int64_t j, int64_t c) { return in.W[size_t(j * k + c)]; };
  auto dot = [&](const double* a, const double* b) {
    double s = 0;
    for (int64_t j = 0; j < V; ++j) s += a[j] * b[j];
    return s;
  };
  ReferenceHeadMetrics r;
  for (int64_t y : in.targets) {
    r.tokens += y != ignore_index;
    REQUIRE((y == ignore_index || (y >= 0 && y < V)));
  }
  REQUIRE(r.tokens > 0);

  // G = (softmax(H W^T) - onehot(target)) / N_valid, ignored rows 0; loss = mean cross-entropy
  // over the valid rows
  std::vector<double> G(static_cast<size_t>(N * V), 0.0), z(static_cast<size_t>(V));
  for (int64_t i = 0; i < N; ++i) {
    const int64_t y = in.targets[size_t(i)];
    if (y == ignore_index) continue;
    for (int64_t j = 0; j < V; ++j) {
      z[size_t(j)] = 0;
      for (int64_t c = 0; c < k; ++c) z[size_t(j)] += h(i, c) * w(j, c);
    }
    const double m = *std::max_element(z.begin(), z.end());
    double s = 0;
    for (double v : z) s += std::exp(v - m);
    r.loss += m + std::log(s) - z[size_t(y)];
    for (int64_t j = 0; j < V; ++j)
      G[size_t(i * V + j)] = (std::exp(z[size_t(j)] - m) / s - (j == y ? 1.0 : 0.0)) / double(r.tokens);
  }
  r.loss /= double(r.tokens);

  // Q: an orthonormal basis of col(W) by modified Gram-Schmidt (the library uses LAPACK QR + SVD),
  // each column orthogonalised twice ("twice is enough"); a column left with under 1e-10 of its
  // norm is dependent and adds nothing
  std::vector<std::vector<double>> Q;
  for (int64_t c = 0; c < k; ++c) {
    std::vector<double> v(static_cast<size_t>(V));
    for (int64_t j = 0; j < V; ++j) v[size_t(j)] = w(j, c);
    const double norm0 = std::sqrt(dot(v.data(), v.data()));
    for (int pass = 0; pass < 2; ++pass)
      for (const auto& q : Q) {
        const double a = dot(q.data(), v.data());
        for (int64_t j = 0; j < V; ++j) v[size_t(j)] -= a * q[size_t(j)];
      }
    const double norm = std::sqrt(dot(v.data(), v.data()));
    if (!(norm > 1e-10 * norm0)) continue;
    for (double& x : v) x /= norm;
    Q.push_back(std::move(v));
  }
  r.rank = int64_t(Q.size());

  // Per row g: ||g||^2, ||g Q||^2, and the destroyed part g - (g Q) Q^T formed and measured
  // directly (not as ||g||^2 - ||g Q||^2, the library's usual route), so the two share no formula.
  double total = 0, visible = 0, destroyed = 0, per_token_sum = 0;
  int64_t per_token_rows = 0;
  std::vector<double> rest(static_cast<size_t>(V));
  for (int64_t i = 0; i < N; ++i) {
    const double* g = &G[size_t(i * V)];
    const double t = dot(g, g);
    std::copy(g, g + V, rest.begin());
    double v = 0;
    for (const auto& q : Q) {
      const double a = dot(q.data(), g);
      v += a * a;
      for (int64_t j = 0; j < V; ++j) rest[size_t(j)] -= a * q[size_t(j)];
    }
    const double d = dot(rest.data(), rest.data());
    total += t, visible += v, destroyed += d;
    if (in.targets[size_t(i)] != ignore_index && t > 0) {
      per_token_sum += std::sqrt(d / t);
      ++per_token_rows;
    }
  }
  r.logit_grad_norm = std::sqrt(total);
  r.destroyed_fraction = std::sqrt(destroyed / total);
  r.visible_cosine = std::sqrt(visible / total);
  r.per_token_destroyed_mean = per_token_sum / double(per_token_rows);

  // U = G W W^T + H H^T G (the logit change of one SGD step on H and W, per unit step, sign
  // flipped), formed entry by entry; update cosine <U, G> / (||U|| ||G||)
  std::vector<double> A(size_t(N * k), 0.0), B(size_t(k * V), 0.0);  // A = G W, B = H^T G
  for (int64_t i = 0; i < N; ++i)
    for (int64_t j = 0; j < V; ++j)
      for (int64_t c = 0; c < k; ++c) {
        A[size_t(i * k + c)] += G[size_t(i * V + j)] * w(j, c);
        B[size_t(c * V + j)] += h(i, c) * G[size_t(i * V + j)];
      }
  double ug = 0, uu = 0;
  for (int64_t i = 0; i < N; ++i)
    for (int64_t j = 0; j < V; ++j) {
      double u = 0;
      for (int64_t c = 0; c < k; ++c) u += A[size_t(i * k + c)] * w(j, c) + h(i, c) * B[size_t(c * V + j)];
      ug += u * G[size_t(i * V + j)];
      uu += u * u;
    }
  r.update_cosine = ug / (std::sqrt(uu) * r.logit_grad_norm);
  return r;
}

}  // namespace gs::testing
