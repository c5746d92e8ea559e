#pragma once
// Internal to analysis/head_*.cpp: the chunked sources of G and the passes over them.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "analysis/head_bottleneck.h"

namespace gs::analysis::detail {

// Rows of the logit gradient G [rows, vocab], produced chunk by chunk.
class GradSource {
 public:
  virtual ~GradSource() = default;
  virtual int64_t rows() const = 0;
  virtual int64_t vocab() const = 0;
  virtual DType dtype() const = 0;
  virtual Device device() const = 0;
  // G[i0:i1, :] as a contiguous [i1 - i0, vocab] tensor. loss_sum (may be null) receives the sum
  // of the chunk's per-row losses, or NaN when the source has no loss.
  virtual Tensor chunk(int64_t i0, int64_t i1, double* loss_sum) const = 0;
  // 1 for rows that count as tokens (targets != ignore_index); size rows().
  virtual const std::vector<uint8_t>& valid() const = 0;
  int64_t valid_count() const;
  // G[:, v0:v1] as a new [rows, v1 - v0] tensor (possibly a strided view of a wider buffer),
  // every row (ignored ones zero): the column blocks from which the exact spectrum accumulates
  // G G^T when N <= V. Call prepare_columns(chunk) once before the first call.
  virtual Tensor columns(int64_t v0, int64_t v1) const = 0;
  // Makes columns() possible: SoftmaxGradSource needs every row's logsumexp, which chunk()
  // records; rows that no chunk() call has produced yet are computed here, `chunk` rows at a time.
  virtual void prepare_columns(int64_t chunk) const { (void)chunk; }
  // A collective (HeadMetricsOptions::comm): the source of every rank's rows stacked in rank order,
  // on every rank, with this source's scale, ready for columns(); what the exact spectrum's
  // G G^T needs, whose entries pair rows of different ranks. `chunk`: rows per chunk for the
  // logsumexps this rank has not recorded yet.
  virtual std::unique_ptr<GradSource> all_rows(comm::Communicator& c, int64_t chunk) const = 0;
};

// G = (softmax(H W^T) - onehot(targets)) / n_valid, recomputed from H, W and the targets. The
// logits go into one buffer reused across chunks (not thread-safe), and G is written over them:
// the tensor chunk() returns is valid until the next call. chunk() also keeps each row's
// logsumexp (N values), so that a column block needs only its own logits:
//   G[:, v0:v1] = (exp(H W[v0:v1]^T - lse) - onehot) * s,  s = 1 / n_valid (ignored rows 0).
class SoftmaxGradSource final : public GradSource {
 public:
  // H [N, D], W [V, D] (one floating dtype), targets int64 [N] already validated. n_valid_total:
  // the valid rows G's mean runs over (every rank's, when these rows are one rank's shard); -1:
  // this source's own.
  SoftmaxGradSource(Tensor H, Tensor W, Tensor targets, int64_t ignore_index, int64_t n_valid_total = -1);
  int64_t rows() const override { return H_.shape()[0]; }
  int64_t vocab() const override { return W_.shape()[0]; }
  DType dtype() const override { return H_.dtype(); }
  Device device() const override { return H_.device(); }
  Tensor chunk(int64_t i0, int64_t i1, double* loss_sum) const override;
  const std::vector<uint8_t>& valid() const override { return valid_; }
  Tensor columns(int64_t v0, int64_t v1) const override;
  void prepare_columns(int64_t chunk) const override;
  std::unique_ptr<GradSource> all_rows(comm::Communicator& c, int64_t chunk) const override;

 private:
  Tensor H_, W_, targets_;
  mutable Tensor logits_;  // [rows of the largest chunk so far, V], reused: no page faults per chunk
  int64_t ignore_index_;
  std::vector<uint8_t> valid_;
  int64_t n_all_ = 0;  // the valid rows G's mean runs over (every rank's, for a shard)
  double scale_ = 0;   // 1 / n_all_
  // For columns():
  mutable Tensor lse_;                         // [N] each row's logsumexp (compute dtype), from chunk()
  mutable std::vector<uint8_t> lse_known_;     // rows of lse_ written so far
  mutable std::vector<int64_t> targets_host_;  // the targets on the host (set by prepare_columns)
};

// An explicit G [N, V]; every row valid.
class ExplicitGradSource final : public GradSource {
 public:
  explicit ExplicitGradSource(Tensor G);
  int64_t rows() const override { return G_.shape()[0]; }
  int64_t vocab() const override { return G_.shape()[1]; }
  DType dtype() const override { return G_.dtype(); }
  Device device() const override { return G_.device(); }
  Tensor chunk(int64_t i0, int64_t i1, double* loss_sum) const override;
  const std::vector<uint8_t>& valid() const override { return valid_; }
  Tensor columns(int64_t v0, int64_t v1) const override;
  std::unique_ptr<GradSource> all_rows(comm::Communicator& c, int64_t chunk) const override;

 private:
  Tensor G_;
  std::vector<uint8_t> valid_;
};

// Rows per chunk: opts.chunk, or the most rows whose two [c, V] buffers of `dtype` fit the budget.
int64_t chunk_rows(const HeadMetricsOptions& opts, int64_t rows, int64_t vocab, DType dtype);

// Where a pass's rows sit among the ranks. comm null (or a world of one): they are all the rows.
// Otherwise this rank's shard, and g_scale turns its G rows into rows of the global G: 1 when
// they were made with the global 1 / n_all already (head_metrics, grad_metrics), n_rank / n_all
// for a pass whose G is that of this rank's own mean loss (HeadMetricsStream).
struct Shard {
  comm::Communicator* comm = nullptr;
  double g_scale = 1;
};

// One pass: everything in HeadMetrics except the spectrum, the header fields and the timings,
// fed one chunk of rows at a time, in row order: by metrics_pass from a GradSource, or by
// HeadMetricsStream from linear_cross_entropy's on_chunk.
class MetricsPass {
 public:
  // valid: 1 per row that counts as a token; basis.Q in the chunks' dtype and device; D: the
  // width of the H rows (0: no update terms); head_term: accumulate G^T H for the head term and
  // the update cosine (only with D > 0).
  MetricsPass(std::vector<uint8_t> valid, const HeadBasis& basis, int64_t vocab, int64_t D, bool head_term,
              DType dtype, Device device);
  ~MetricsPass();
  // G: rows i0..i0+c-1 [c, V] (contiguous; not modified); Hc [c, D] or undefined when D = 0;
  // chunk_loss: their summed loss (NaN when unknown).
  void add(int64_t i0, const Tensor& G, const Tensor& Hc, double chunk_loss);
  int64_t rows_seen() const { return next_; }
  // Writes the fields into out (tokens, loss, norms, fractions, per_token, update,
  // run.direct_rows, run.shard_grad_norm); out.dim must be set (the update's rank bound is 2 dim).
  // Across ranks (shard.comm) a collective: the sums of every rank's rows (head_pass.cpp).
  void finish(HeadMetrics& out, const Shard& shard = {});

 private:
  void finish_across(HeadMetrics& out, comm::Communicator& c, double g_scale);
  struct Acc;
  std::vector<uint8_t> valid_;
  int64_t n_valid_ = 0;
  Tensor Q_;
  int64_t next_ = 0;
  std::unique_ptr<Acc> acc_;
};

// metrics_pass over a whole source: H [N, D] in the source's dtype, or undefined (no update terms).
void metrics_pass(const GradSource& src, const Tensor& H, const HeadBasis& basis, int64_t chunk, bool head_term,
                  HeadMetrics& out, const Shard& shard = {});

// The spectrum fields; g_sq = ||G||_F^2 from the pass (every rank's); dim = D (for 2D); chunk:
// rows per chunk of the pass (the spectrum's row chunks are at most this). Across ranks
// (opts.comm) a collective over every rank's rows of src.
SpectrumMetrics spectrum(const GradSource& src, double g_sq, int64_t dim, const HeadMetricsOptions& opts,
                         int64_t chunk);

// Input checks shared by head_metrics, grad_metrics and HeadMetricsStream ("head_metrics: ...").
void check_finite(const char* what, const Tensor& x);  // NaN or Inf, naming the first bad row
void check_matrix(const char* what, const Tensor& x);  // defined, 2-d, float32/float64
// against: the caller's argument the basis must fit, as the message names it ("W [6, 3]",
// "G [16, 32]"); hint: what to pass instead.
void check_basis(const HeadBasis& b, int64_t V, int64_t D, const std::string& against, const std::string& hint);
// require_valid: at least one target is not ignore_index (across ranks the caller checks that
// over every rank's targets instead).
void check_target_values(const Tensor& targets, int64_t V, int64_t ignore_index, bool require_valid = true);
// Targets that are not ignore_index.
int64_t count_valid(const Tensor& targets, int64_t ignore_index);
// The compute dtype: the input's, or float64 when promoted.
DType compute_dtype(DType in, const HeadMetricsOptions& o);
// Q in the compute dtype and device (a copy only when they differ from the basis's).
HeadBasis basis_for(const HeadBasis& b, DType dt, Device dev);

// Percentile q in [0, 1] of sorted values, linear interpolation between closest ranks (NumPy's
// default method). sorted must be non-empty.
double percentile(const std::vector<double>& sorted, double q);
// mean, p5, p50, p95 and count of per-token values (sorted here; the mean summed in sorted
// order); NaN figures when there are none.
PerTokenDestroyed per_token_summary(std::vector<double> values);

}  // namespace gs::analysis::detail
