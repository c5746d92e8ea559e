// HeadMetricsStream: the head metrics of a pass that produces G itself (linear_cross_entropy's
// on_chunk), folded into the same MetricsPass that head_metrics runs over its own chunks.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "analysis/data_parallel.h"
#include "analysis/head_bottleneck.h"
#include "analysis/head_internal.h"
#include "analysis/head_shards.h"
#include "tensor/ops.h"

namespace gs::analysis {

struct HeadMetricsStream::State {
  Tensor W, targets;  // contiguous, W's dtype and device
  HeadBasis basis;    // Q in W's dtype and device
  HeadMetricsOptions opts;
  std::vector<uint8_t> valid;
  int64_t N = 0, V = 0, D = 0;
  bool want_spectrum = false;
  Tensor H_kept;  // [N, D] rows of H, for the spectrum's recomputed G (only when want_spectrum)
  std::unique_ptr<detail::MetricsPass> pass;
  int64_t largest_chunk = 0;
  double pass_s = 0;  // time spent in add()
  bool finished = false;
};

namespace {

// The stream's input checks. require_valid: at least one valid target here (across ranks the
// constructor asks it of all the ranks' targets instead).
void check_stream_inputs(const Tensor& W, const Tensor& targets, const HeadBasis& basis, const HeadMetricsOptions& opts,
                         bool require_valid) {
  detail::check_matrix("W", W);
  if (opts.promote_float64)
    fail("head_metrics", "HeadMetricsStream takes G in the pass's dtype: promote_float64 is not available");
  const int64_t V = W.shape()[0], D = W.shape()[1];
  if (V == 0) fail("head_metrics", "W ", shape_str(W.shape()), " has no rows (V = 0)");
  if (!targets.defined() || targets.dtype() != kInt64 || targets.dim() != 1)
    fail("head_metrics", "targets must be int64 [N], got ",
         targets.defined() ? std::string(dtype_name(targets.dtype())) + " " + shape_str(targets.shape()) : "undefined");
  if (targets.device() != W.device()) fail("head_metrics", "W and targets on different devices");
  detail::check_target_values(targets, V, opts.ignore_index, require_valid);
  detail::check_basis(basis, V, D, "W " + shape_str(W.shape()), "use head_basis(W)");
  detail::check_finite("W", W);
}

}  // namespace

HeadMetricsStream::HeadMetricsStream(const Tensor& W, const Tensor& targets, const HeadBasis& basis,
                                     const HeadMetricsOptions& opts)
    : s_(std::make_unique<State>()) {
  if (!spans_ranks(opts.comm)) {
    check_stream_inputs(W, targets, basis, opts, true);
  } else {
    comm::Communicator& c = *opts.comm;
    detail::check_on_every_rank(c, "head_metrics", [&] { check_stream_inputs(W, targets, basis, opts, false); });
    detail::check_same_everywhere(c, "head_metrics", {W.shape()[0], W.shape()[1], static_cast<int64_t>(W.dtype())},
                                  "W's shape or dtype");
    detail::check_same_options(c, "head_metrics", opts);
    if (detail::sum_over(c, detail::count_valid(targets, opts.ignore_index)) == 0)
      fail("head_metrics", "no valid targets on any of the ", c.size(), " ranks: every row is ignore_index (",
           opts.ignore_index, ")");
  }
  const int64_t V = W.shape()[0], D = W.shape()[1];

  State& s = *s_;
  s.W = op::contiguous(W);
  s.targets = op::contiguous(targets);
  s.basis = detail::basis_for(basis, W.dtype(), W.device());
  s.opts = opts;
  s.N = targets.shape()[0];
  s.V = V;
  s.D = D;
  const std::vector<int64_t> t = s.targets.to_vector<int64_t>();
  s.valid.resize(t.size());
  for (size_t i = 0; i < t.size(); ++i) s.valid[i] = t[i] != opts.ignore_index;
  s.want_spectrum = opts.topk > 0 || opts.exact_spectrum;
  if (s.want_spectrum) s.H_kept = empty({s.N, D}, W.dtype(), W.device());
  s.pass = std::make_unique<detail::MetricsPass>(s.valid, s.basis, V, D, opts.update_terms, W.dtype(), W.device());
}

HeadMetricsStream::~HeadMetricsStream() = default;

void HeadMetricsStream::add(const LinearCrossEntropyChunk& ch) {
  State& s = *s_;
  if (s.finished) fail("head_metrics", "HeadMetricsStream: a chunk after finish()");
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t c = ch.i1 - ch.i0;
  if (ch.i0 != s.pass->rows_seen() || c < 0 || ch.i1 > s.N)
    fail("head_metrics", "HeadMetricsStream: chunk of rows ", ch.i0, "..", ch.i1, " does not continue the pass at row ",
         s.pass->rows_seen(), " of ", s.N);
  if (!ch.G.defined() || ch.G.shape() != Shape{c, s.V} || !ch.H.defined() || ch.H.shape() != Shape{c, s.D})
    fail("head_metrics", "HeadMetricsStream: chunk G ", ch.G.defined() ? shape_str(ch.G.shape()) : "undefined", " and H ",
         ch.H.defined() ? shape_str(ch.H.shape()) : "undefined", " must be [", c, ", ", s.V, "] and [", c, ", ", s.D, "]");
  if (ch.G.dtype() != s.W.dtype() || ch.H.dtype() != s.W.dtype() || ch.G.device() != s.W.device() ||
      ch.H.device() != s.W.device())
    fail("head_metrics", "HeadMetricsStream: chunk G (", dtype_name(ch.G.dtype()), ") and H (", dtype_name(ch.H.dtype()),
         ") must have W's dtype (", dtype_name(s.W.dtype()), ") and device");
  detail::check_finite("H", ch.H);
  const Tensor H = op::contiguous(ch.H);
  s.pass->add(ch.i0, op::contiguous(ch.G), H, ch.loss_sum);
  if (s.want_spectrum && c > 0) op::copy_(op::narrow(s.H_kept, 0, ch.i0, c), H);
  s.largest_chunk = std::max(s.largest_chunk, c);
  s.pass_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

LinearCrossEntropyChunkFn HeadMetricsStream::on_chunk() {
  return [this](const LinearCrossEntropyChunk& ch) { add(ch); };
}

HeadMetrics HeadMetricsStream::finish() {
  State& s = *s_;
  if (s.finished) fail("head_metrics", "HeadMetricsStream: finish() called twice");
  if (s.pass->rows_seen() != s.N)
    fail("head_metrics", "HeadMetricsStream: finish() after ", s.pass->rows_seen(), " of ", s.N, " rows");
  s.finished = true;
  HeadMetrics m;
  m.vocab = s.V;
  m.dim = s.D;
  m.basis_rank = s.basis.rank;
  m.rank_tol = s.basis.rel_tol;
  m.run.chunk = s.largest_chunk;
  // Across ranks this rank's G is that of its own mean loss (1 / n_rank): n_rank / n_all makes
  // its rows those of the mean over every rank's tokens.
  detail::Shard shard;
  int64_t n_all = -1;
  if (spans_ranks(s.opts.comm)) {
    const int64_t n_rank = detail::count_valid(s.targets, s.opts.ignore_index);
    n_all = detail::sum_over(*s.opts.comm, n_rank);
    shard = {s.opts.comm, static_cast<double>(n_rank) / static_cast<double>(n_all)};
  }
  s.pass->finish(m, shard);
  m.run.pass_s = s.pass_s;
  if (s.want_spectrum) {
    const auto t0 = std::chrono::steady_clock::now();
    // the same G rows again, from the kept H rows and W: the spectrum makes several passes
    // (across ranks with the global 1 / n_all, like the pass's rescaled rows)
    const detail::SoftmaxGradSource src(s.H_kept, s.W, s.targets, s.opts.ignore_index, n_all);
    const int64_t chunk = detail::chunk_rows(s.opts, s.N, s.V, s.W.dtype());
    m.spectrum = detail::spectrum(src, m.logit_grad_norm * m.logit_grad_norm, s.D, s.opts, chunk);
    m.run.spectrum_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    s.H_kept = Tensor();
  }
  return m;
}

}  // namespace gs::analysis
