#pragma once
// Internal to analysis/head_*.cpp: the chunked sources of G and the passes over them.
#include <cstdint>
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
};

// G = (softmax(H W^T) - onehot(targets)) / n_valid, recomputed from H, W and the targets. The
// logits go into one buffer reused across chunks (not thread-safe), and G is written over them:
// the tensor chunk() returns is valid until the next call.
class SoftmaxGradSource final : public GradSource {
 public:
  // H [N, D], W [V, D] (one floating dtype), targets int64 [N] already validated.
  SoftmaxGradSource(Tensor H, Tensor W, Tensor targets, int64_t ignore_index);
  int64_t rows() const override { return H_.shape()[0]; }
  int64_t vocab() const override { return W_.shape()[0]; }
  DType dtype() const override { return H_.dtype(); }
  Device device() const override { return H_.device(); }
  Tensor chunk(int64_t i0, int64_t i1, double* loss_sum) const override;
  const std::vector<uint8_t>& valid() const override { return valid_; }

 private:
  Tensor H_, W_, targets_;
  mutable Tensor logits_;  // [rows of the largest chunk so far, V], reused: no page faults per chunk
  int64_t ignore_index_;
  std::vector<uint8_t> valid_;
  double scale_ = 0;  // 1 / n_valid
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

 private:
  Tensor G_;
  std::vector<uint8_t> valid_;
};

// Rows per chunk: opts.chunk, or the most rows whose two [c, V] buffers of `dtype` fit the budget.
int64_t chunk_rows(const HeadMetricsOptions& opts, int64_t rows, int64_t vocab, DType dtype);

// One pass: everything in HeadMetrics except the spectrum, the header fields and the timings.
// H: [N, D] in the source's dtype, or undefined (no update terms). basis.Q in the source's dtype.
// head_term: accumulate G^T H for the head term and the update cosine.
void metrics_pass(const GradSource& src, const Tensor& H, const HeadBasis& basis, int64_t chunk, bool head_term,
                  HeadMetrics& out);

// The spectrum fields; g_sq = ||G||_F^2 from the pass; dim = D (for 2D).
SpectrumMetrics spectrum(const GradSource& src, double g_sq, int64_t dim, const HeadMetricsOptions& opts,
                         int64_t chunk);

// Percentile q in [0, 1] of sorted values, linear interpolation between closest ranks (NumPy's
// default method). sorted must be non-empty.
double percentile(const std::vector<double>& sorted, double q);

}  // namespace gs::analysis::detail
