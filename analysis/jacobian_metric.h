#pragma once
// The exact bottleneck of any head, linear or not: how much of each token's logit gradient the
// head's own Jacobian destroys.
//
// For a head f: h -> z applied row by row (z_t depends on h_t only), token t's logits move with
// J_t = dz_t / dh_t [V, D], and the backbone receives J_t^T g_t. The part of g_t that reaches it is
// the projection onto col(J_t); the rest is destroyed:
//   destroyed_t = ||g_t - P_col(J_t) g_t|| / ||g_t||,
//   destroyed_fraction = sqrt(sum_t ||g_t - P g_t||^2 / sum_t ||g_t||^2)   (the Frobenius aggregate).
// For a linear head (z = a(h) M^T + b, a linear) J_t's column space is col(M) for every token and
// this equals the column-space metric of analysis/head_bottleneck.h; for any other head (a mixture
// of softmaxes, a non-linear projection) the column space changes from token to token and only
// this figure is exact.
//
// How: per chunk of c tokens, D Jacobian-vector products (autograd/jvp.h) with the tangent e_i on
// every row give the columns J_t e_i of all c tokens at once ([c, V] each); the chunk's J [c, V, D]
// is the only large buffer (never V x V). Per token, an orthonormal basis of col(J_t) (Householder
// QR + SVD, numerical rank under rank_tol; tensor/lapack.h) and the destroyed part computed
// directly as g_t - Q (Q^T g_t), in float64. Costs D forward passes of f with tangents per chunk,
// plus N (2 V D^2) flops for the bases.
#include <cstdint>
#include <functional>

#include "analysis/head_bottleneck.h"
#include "nn/head.h"
#include "tensor/tensor.h"

namespace gs::analysis {

// The head as a function of the hidden states: h [n, D] -> logits [n, V], row by row.
using HeadFunction = std::function<Tensor(const Tensor&)>;

struct JacobianMetricOptions {
  int64_t chunk = 0;                        // tokens per chunk; 0: the most whose J fits the budget
  int64_t memory_budget_bytes = 256 << 20;  // bound on the chunk's J [c, V, D] (float64)
  double rank_tol = -1;                     // rank(J_t) = #{sigma_i > rank_tol sigma_max}; < 0: max(V, D) 2^-52
  // Rows split over ranks (as HeadMetricsOptions::comm): each rank passes its own rows of H and G
  // (G rows of the global logit gradient) and every rank receives the figures of all the rows:
  // the three sums all-reduced, the per-token values gathered on rank 0. null or a world of one:
  // this process's rows are all the rows. A collective then: every rank must call.
  comm::Communicator* comm = nullptr;
};

struct JacobianMetrics {
  int64_t tokens = 0;  // rows with g_t != 0 (rows of ignored targets have g_t = 0 and do not count)
  int64_t vocab = 0, dim = 0;
  double logit_grad_norm = 0;     // ||G||_F
  double visible_norm = 0;        // sqrt(sum_t ||P_col(J_t) g_t||^2)
  double destroyed_fraction = 0;  // sqrt(sum_t ||g_t - P g_t||^2) / ||G||_F
  PerTokenDestroyed per_token;    // destroyed_t over the counted rows
  int64_t min_rank = 0, max_rank = 0;  // numerical rank of J_t over the counted rows
  int64_t chunk = 0, jvps = 0;         // tokens per chunk used, jvp calls made
};

// Errors ("jacobian_destroyed: ..."): H not 2-d [N, D] or G not [N, V] floating point of H's dtype
// and device, f's output not [n, V] for an input of n rows, NaN or Inf in G; then f's own errors
// and jvp's ("an op without a forward-mode rule": register one, autograd/function.h).
JacobianMetrics jacobian_destroyed(const HeadFunction& f, const Tensor& H, const Tensor& G,
                                   const JacobianMetricOptions& opt = {});

// The exact figure for any head: a head that declares itself linear (nn::LMHead::linear) keeps the
// column-space metrics m was computed with; for any other head, m's destroyed fraction, visible
// norm and cosine and per-token figures become the Jacobian ones of head.forward at hidden [N, D]
// for the logit gradient G [N, V], m.metric "jacobian", and m.column_space_destroyed_fraction the
// figure replaced. Returns m.metric.
const std::string& apply_exact_metric(HeadMetrics& m, const nn::LMHead& head, const Tensor& hidden, const Tensor& G,
                                      const JacobianMetricOptions& opt = {});

}  // namespace gs::analysis
