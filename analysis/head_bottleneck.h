#pragma once
// Head metrics for one batch: how much of the exact logit gradient the LM head lets through
// (the destroyed fraction and the quantities around it defined in ../shared/PAPER.md).
//
// Inputs: hidden states H [N, D] entering the head, the head matrix W [V, D], int64 targets [N]
// (ignore_index rows excluded). G = (softmax(H W^T) - onehot) / N_valid is never stored beyond a
// chunk of rows: every pass recomputes G's rows chunk by chunk from H, W and the targets.
//
//   Q            orthonormal basis of col(W) (LAPACK QR + SVD of R, numerical rank under rank_tol)
//   visible      ||G Q||_F; destroyed_fraction = ||G - G Q Q^T||_F / ||G||_F, per row as
//                ||g||^2 - ||g Q||^2, or directly as ||g - (g Q) Q^T||^2 for rows whose visible part
//                is over half of ||g||^2 (where the subtraction would cancel; "direct_rows")
//   update       U = G W W^T + H H^T G (one SGD step on H and W, -eta U) from small products only:
//                  A = G W = (G Q) K with K = Q^T W;  ||G W W^T|| = ||(G Q) K K^T||  (Q orthonormal)
//                  B = H^T G (accumulated over chunks as G^T H [V, D], the head's weight gradient)
//                  <U, G> = ||A||^2 + ||B||^2;  ||H H^T G||^2 = <H^T H, B B^T>;
//                  <G W W^T, H H^T G> = ||H^T A||^2;  ||U||^2 = sum of the two squares + 2x that.
//   spectrum     singular values of G. Exact when min(N, V) <= exact_spectrum_max_side: every
//                eigenvalue of the float64 Gram matrix G G^T (accumulated over column blocks of G)
//                or G^T G (over row chunks), whichever is smaller, by LAPACK dsyevd; component
//                counts and the EYM bound then come from the whole spectrum. Beyond that, top-k
//                by randomized subspace iteration (Halko-Martinsson-Tropp) with G and G^T applied
//                chunk by chunk, iterated until the top-k values have converged to spectrum_rtol
//                (estimated), with an a-posteriori residual. analysis/head_spectrum.cpp has both.
//
// Costs (N tokens, chunk c rows): three products of N x D x V flops (logits H W^T, G Q and G^T H;
// G^T H is the head's weight gradient, needed only by the head term and the update cosine:
// update_terms = false drops it), the basis once per W (QR of a V x D float64 copy), plus O(N V)
// elementwise work. The exact spectrum costs one pass building the Gram matrix, N V s flops in
// float64 (s = min(N, V); dsyrk, a full gemm on CUDA), plus ~4/3 s^3 for dsyevd; it holds the
// s x s float64 Gram (2 GiB at s = 16384, outside memory_budget_bytes) and column blocks or row
// chunks of G within the budget.
// The randomized spectrum costs about 1 + 2 l / D such products per pass (l = k + oversample
// columns), over at least power_iters + 2 passes, and holds Omega and Z [V, l] (compute dtype)
// plus, while orthonormalising, one V x l float64 copy.
// Memory beyond the inputs: two c x V buffers (bounded by memory_budget_bytes; a third for chunks
// that need the direct destroyed part), Q and G^T H (each V x D), and during the basis one V x D
// float64 copy of W. The big products run in the input dtype (float32 stays float32 unless
// promote_float64); every sum, norm and small product is accumulated in float64.
//
// Across ranks (HeadMetricsOptions::comm spanning several processes, e.g. comm::world() under
// `mpirun -np R`): every rank passes its own shard of the rows (H rows and their targets, or rows
// of G), the same W (basis) and the same options, and every rank receives the metrics of all the
// shards' rows concatenated in rank order, equal to one process's on those rows up to the order
// of the sums (tests/mpi/analysis_check asserts 1e-6 relative in float64). What travels:
//   sums         loss, ||G||^2, ||G Q||^2, the destroyed squares, ||G W||^2, ||G W W^T||^2, the
//                valid count (float64 / int64 all-reduce of a few numbers)
//   products     H^T G W and H^T H (D x D) and G^T H (V x D, the head's weight gradient: the head
//                term needs (sum_r G_r^T H_r)^T (sum_r G_r^T H_r), not a sum of per-rank squares)
//   per token    each rank's per-token destroyed values, gathered on rank 0 for the percentiles
//                (N doubles), whose summary is sent back to every rank
//   spectrum     exact, N > V: the Gram G^T G [V, V] = sum_r G_r^T G_r, all-reduced. Exact,
//                N <= V: the Gram G G^T [N, N] needs products of rows held by different ranks:
//                every rank gathers all the rows' sources (H, targets and logsumexps, N x D; for
//                grad_metrics G itself, N x V) and forms the column blocks j = rank (mod R) of all
//                N rows; the partial Grams are all-reduced. Rank 0 finds the eigenvalues and sends
//                them to every rank. Randomized: each pass all-reduces C [l, l] and Z [V, l]; rank
//                0 finds the Ritz values and orthonormalises, and sends values and Omega on, so
//                every rank takes the same stopping decision and makes the same passes.
// Every call is then a collective: each rank must call it, in the same order. Input checks run
// on every rank first, and if one rank's fail every rank throws (no rank is left waiting).
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "autograd/ops/loss.h"
#include "tensor/lapack.h"
#include "tensor/tensor.h"

namespace gs::comm {
class Communicator;
}

namespace gs::analysis {

struct HeadMetricsOptions {
  int64_t chunk = 0;                        // rows per chunk; 0: derived from memory_budget_bytes
  int64_t memory_budget_bytes = 256 << 20;  // bound on the chunk-sized buffers (two c x V matrices)
  int64_t ignore_index = -100;
  int64_t topk = 0;  // singular values of G to report; 0: no spectrum (unless exact_spectrum)
  // The exact spectrum (Gram matrix + dsyevd, every value) is used when min(N, V) is at most this;
  // beyond it the randomized one. 0 always takes the randomized path (unless exact_spectrum).
  int64_t exact_spectrum_max_side = 16384;
  // Force the exact path beyond exact_spectrum_max_side; refused when the float64 Gram
  // [min(N, V)]^2 exceeds memory_budget_bytes. With topk = 0 it reports every value.
  bool exact_spectrum = false;
  // Randomized path. Columns l = topk + oversample (-1: topk + 10, which a flat spectrum needs:
  // its convergence rate is (sigma_{l+1} / sigma_k)^2 per pass). At least power_iters + 2
  // passes (power_iters = q of Halko-Martinsson-Tropp); then one more pass at a time until the
  // estimated relative error of every top-k value is below spectrum_rtol / 4, or
  // max_power_iters + 2 passes (see SpectrumMetrics::value_error).
  int power_iters = 2;
  int max_power_iters = 30;
  double spectrum_rtol = 1e-3;
  int64_t oversample = -1;
  uint64_t seed = 0;  // Generator seed of the Gaussian test matrix
  double rank_tol = -1;       // rank(W) = #{sigma_i > rank_tol * sigma_max}; < 0: max(V, D) * 2^-52
  bool promote_float64 = false;  // run the big products in float64 for float32 inputs (2x time)
  // false skips G^T H, one of the three N x D x V products (about a third of the time):
  // update.cosine and update.head_term_norm are then NaN; backbone_term_norm is still computed.
  bool update_terms = true;
  // The ranks that hold the other shards of the rows (see "Across ranks" above): a host
  // communicator such as comm::world(). null, or a world of one process: the rows given are all
  // the rows, and nothing is communicated (the one-process path, unchanged).
  comm::Communicator* comm = nullptr;
};

// The basis of col(W): Q [V, rank] (W's dtype), coeffs = Q^T W [rank, D] (float64), W's singular
// values. Compute it once per head and pass it to head_metrics for every batch.
using HeadBasis = op::OrthonormalBasis;
HeadBasis head_basis(const Tensor& W, double rank_tol = -1);

struct PerTokenDestroyed {  // ||g_i - Q Q^T g_i|| / ||g_i|| over valid rows with g_i != 0
  double mean = 0, p5 = 0, p50 = 0, p95 = 0;  // percentiles by linear interpolation (NumPy default)
  int64_t count = 0;
};

struct UpdateMetrics {
  double cosine = 0;              // <U, G> / (||U|| ||G||)
  double backbone_term_norm = 0;  // ||G W W^T||_F
  double head_term_norm = 0;      // ||H H^T G||_F
  int64_t rank_bound = 0;         // 2 D
};

struct SpectrumMetrics {
  int64_t topk = 0;                     // number of singular values reported (0: not computed)
  std::vector<double> singular_values;  // descending
  // Fewest leading components holding 70 / 90 / 99 / 99.9 % of ||G||_F^2. Exact: counted over all
  // min(N, V) values. Randomized: counted over the topk values (each an underestimate, so a count
  // is an upper bound of the true one), -1 when more than topk are needed.
  int64_t components_for_70 = -1, components_for_90 = -1, components_for_99 = -1, components_for_999 = -1;
  // sqrt(||G||^2 - sum_{i <= 2D} sigma_i^2) / ||G||: least relative error of any rank-2D update.
  // NaN when fewer than min(2D, rank bound) values were computed. From randomized values (slight
  // underestimates of sigma_i) it is an overestimate, by at most residual: the true value lies
  // in [sqrt(max(0, eym^2 - residual^2)), eym].
  double eym_bound_2d = std::numeric_limits<double>::quiet_NaN();
  // true: every value from the Gram matrix, accurate to rounding (head_spectrum.cpp: each
  // sigma_i^2 within (N + V) eps ||G||_F^2 at worst, values under that reported as 0).
  // false: randomized.
  bool exact = false;
  // A-posteriori error of the randomized path (exact: both 0; not computed: NaN).
  // residual = ||G - G P||_F / ||G||_F, P the projector onto the final l-column subspace, from
  //   ||G||_F^2 and ||G P||_F^2 = sum of the l computed sigma_i^2. A bound, not an estimate:
  //   (a) the relative tail beyond l, sqrt(sum_{i > l} sigma_i^2) / ||G||_F, is <= residual
  //       (Eckart-Young-Mirsky: no l-dimensional subspace captures more);
  //   (b) the energy missing from the reported values, sum_{i <= k} (sigma_i^2 - sigmahat_i^2)
  //       / ||G||_F^2, is <= residual^2 (each sigmahat_i <= sigma_i, by interlacing).
  // value_error: the estimated largest relative error sigma_i / sigmahat_i - 1 over the top k,
  //   from the convergence of the values between the last three passes (an estimate, not a
  //   bound); +Inf (null in the JSON) when max_power_iters stopped the iteration before the
  //   values converged geometrically.
  double residual = std::numeric_limits<double>::quiet_NaN();
  double value_error = std::numeric_limits<double>::quiet_NaN();
  int64_t columns = 0;  // randomized: l, the subspace's columns; exact: min(N, V), the Gram's side
  int passes = 0;       // passes over G's chunks or column blocks (not in the JSON)
};

struct HeadMetrics {
  int64_t tokens = 0;  // valid rows
  int64_t vocab = 0, dim = 0;
  int64_t basis_rank = 0;  // rank of W used for Q
  double rank_tol = 0;     // its relative tolerance
  double loss = 0;         // mean cross-entropy over valid rows (NaN for grad_metrics)
  double logit_grad_norm = 0;  // ||G||_F
  double visible_norm = 0;     // ||G Q||_F
  double destroyed_fraction = 0;
  double visible_cosine = 0;    // ||G Q||_F / ||G||_F
  // Which figure destroyed_fraction, visible_norm, visible_cosine and per_token are:
  // "column_space" (the projection onto col(W) above: exact for a linear head) or "jacobian" (the
  // per-token Jacobian metric of analysis/jacobian_metric.h, for a head that is not linear; the
  // update and spectrum fields stay those of G and the head matrix). With "jacobian",
  // column_space_destroyed_fraction keeps the column-space figure it replaced (NaN otherwise).
  std::string metric = "column_space";
  double column_space_destroyed_fraction = std::numeric_limits<double>::quiet_NaN();
  double hidden_grad_norm = 0;  // ||G W||_F: the gradient the backbone receives (not in the JSON)
  PerTokenDestroyed per_token;
  UpdateMetrics update;
  SpectrumMetrics spectrum;
  struct Run {  // how it was computed (not in the JSON)
    int64_t chunk = 0;        // rows per chunk used
    int64_t direct_rows = 0;  // rows whose destroyed part was computed directly (all ranks')
    double basis_s = 0, pass_s = 0, spectrum_s = 0;
    // ||G||_F of this rank's own rows, in the scale they arrived with (HeadMetricsStream: this
    // rank's own mean loss): what a backward pass over this rank's shard alone is relative to
    // (analysis/monitor.h's node trace). logit_grad_norm in one process.
    double shard_grad_norm = 0;
  } run;
};

// Errors ("head_metrics: ..."): H not 2-d [N, D], W not [V, D] with H's D, dtype or device mismatch,
// targets not int64 [N], a target outside [0, V) other than ignore_index, no valid target,
// NaN or Inf in H or W (naming the first bad row), a basis that does not match W.
HeadMetrics head_metrics(const Tensor& H, const Tensor& W, const Tensor& targets, const HeadMetricsOptions& opts = {});
HeadMetrics head_metrics(const Tensor& H, const Tensor& W, const Tensor& targets, const HeadBasis& basis,
                         const HeadMetricsOptions& opts = {});

// The same metrics for an explicit logit gradient G [N, V] (any loss, or a constructed G in
// tests), with basis = head_basis(W). H [N, D] may be undefined: the update terms are then NaN.
// Every row counts as a token; loss is NaN; ignore_index is unused. Across ranks (opts.comm) the
// metrics are those of the ranks' G rows concatenated as given: a G that is the gradient of one
// rank's own mean loss must first be scaled by n_rank / n_all to be a share of the global one.
HeadMetrics grad_metrics(const Tensor& G, const Tensor& H, const HeadBasis& basis, const HeadMetricsOptions& opts = {});

// The same metrics from a pass that already produces G chunk by chunk: linear_cross_entropy's
// forward through its on_chunk hook (LanguageModel::loss and LMHead::loss pass it on), so a
// training-style fused pass measures the head without an [N, V] buffer or a second logits pass:
//
//   HeadMetricsStream s(W, targets, head_basis(W), opts);
//   Tensor loss = linear_cross_entropy(H, W, targets, {.on_chunk = s.on_chunk()});
//   HeadMetrics m = s.finish();    // after the forward has produced every row
//
// W [V, D]: the head matrix the pass multiplies (H W^T are its logits, with no bias); targets
// int64 [N] with opts.ignore_index as the pass's (its reduction must be "mean"). Each chunk's G
// and H rows go into the accumulators head_metrics uses (same formulas and float64 sums); the
// chunking is the producer's (opts.chunk and memory_budget_bytes only bound the spectrum's
// buffers). The spectrum needs several passes over G: finish() recomputes G's rows from H rows
// kept during the pass (N x D, only when a spectrum is asked for) and W, exactly as head_metrics
// does. promote_float64 is refused (G arrives in the pass's dtype).
// Errors ("head_metrics: ..."): as head_metrics for W, targets and the basis; a chunk whose shape,
// dtype, device or row range does not continue the pass; finish() before every row was seen.
// Across ranks (opts.comm): each rank's pass covers its own shard, its G being that of its own
// mean loss; finish() rescales each rank's rows by n_rank / n_all so the metrics are those of the
// mean loss over every rank's tokens, as head_metrics on all the rows gives them. The constructor
// (its input checks) and finish() are then collectives.
class HeadMetricsStream {
 public:
  HeadMetricsStream(const Tensor& W, const Tensor& targets, const HeadBasis& basis, const HeadMetricsOptions& opts = {});
  ~HeadMetricsStream();
  HeadMetricsStream(const HeadMetricsStream&) = delete;
  HeadMetricsStream& operator=(const HeadMetricsStream&) = delete;
  void add(const LinearCrossEntropyChunk& chunk);
  // A hook that calls add(); this stream must outlive the pass.
  LinearCrossEntropyChunkFn on_chunk();
  HeadMetrics finish();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// The logit gradient G [N, V] = (softmax(H W^T) - onehot) / N_valid (ignored rows 0), materialised:
// for small problems, tests, and as the explicit upstream gradient of the leak test.
Tensor logit_grad(const Tensor& H, const Tensor& W, const Tensor& targets, int64_t ignore_index = -100);

// G = visible + destroyed with visible = (G Q) Q^T (what reaches W^T's row space) and
// destroyed = G - visible (what the head multiplies to zero). G: [..., V].
struct LogitGradSplit {
  Tensor visible, destroyed;
};
LogitGradSplit split_logit_grad(const Tensor& G, const HeadBasis& basis);

// JSON text with exactly these keys, a stable format that scripts and tests parse: tokens, vocab,
// dim, loss, logit_grad_norm, visible_norm, destroyed_fraction, visible_cosine,
// per_token_destroyed {mean, p5, p50, p95}, update {cosine, backbone_term_norm, head_term_norm,
// rank_bound}, spectrum {topk, singular_values, components_for_70, components_for_90,
// components_for_99, components_for_999, eym_bound_2d, exact, residual, value_error}. NaN and
// Inf are written as null. analysis/head_json.h gives the nlohmann::json value for callers that
// add keys (trace, leak).
std::string to_json(const HeadMetrics& m, int indent = 2);

}  // namespace gs::analysis
