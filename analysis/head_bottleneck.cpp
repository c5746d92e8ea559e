// Entry points of the head metrics: input checks, the sources of G, the basis, and assembly.
// The pass itself is in head_pass.cpp, the spectrum in head_spectrum.cpp.
#include "analysis/head_bottleneck.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "analysis/data_parallel.h"
#include "analysis/head_internal.h"
#include "analysis/head_shards.h"
#include "tensor/ops.h"

namespace gs::analysis {
namespace detail {

int64_t GradSource::valid_count() const {
  int64_t n = 0;
  for (uint8_t v : valid()) n += v;
  return n;
}

SoftmaxGradSource::SoftmaxGradSource(Tensor H, Tensor W, Tensor targets, int64_t ignore_index, int64_t n_valid_total)
    : H_(std::move(H)), W_(std::move(W)), targets_(std::move(targets)), ignore_index_(ignore_index) {
  const std::vector<int64_t> t = targets_.to_vector<int64_t>();
  valid_.resize(t.size());
  int64_t n = 0;
  for (size_t i = 0; i < t.size(); ++i) n += (valid_[i] = t[i] != ignore_index_);
  n_all_ = n_valid_total >= 0 ? n_valid_total : n;
  scale_ = n_all_ > 0 ? 1.0 / static_cast<double>(n_all_) : 0.0;
}

Tensor SoftmaxGradSource::chunk(int64_t i0, int64_t i1, double* loss_sum) const {
  const Tensor y = op::narrow(targets_, 0, i0, i1 - i0);
  const int64_t c = i1 - i0;
  if (!logits_.defined() || logits_.shape()[0] < c) {
    logits_ = Tensor();
    logits_ = empty({c, W_.shape()[0]}, H_.dtype(), H_.device());
  }
  const Tensor logits = op::narrow(logits_, 0, 0, c);
  op::addmm_(logits, op::narrow(H_, 0, i0, c), W_, false, true, 1.0, 0.0);
  // G over the logits in one pass: the logits are not needed again
  const op::CrossEntropyResult ce = op::cross_entropy_fused_(logits, y, scale_, ignore_index_);
  if (loss_sum) *loss_sum = ce.loss.item<double>();
  // keep the rows' logsumexp for columns() (c values; the metrics pass thus prepares them)
  if (!lse_.defined()) {
    lse_ = empty({rows()}, H_.dtype(), H_.device());
    lse_known_.assign(static_cast<size_t>(rows()), 0);
  }
  if (c > 0) op::copy_(op::narrow(lse_, 0, i0, c), ce.lse);
  std::fill(lse_known_.begin() + i0, lse_known_.begin() + i1, uint8_t{1});
  return logits;
}

void SoftmaxGradSource::prepare_columns(int64_t rows_per_chunk) const {
  const int64_t N = rows(), c = std::max<int64_t>(rows_per_chunk, 1);
  // rows whose logsumexp the metrics pass has not recorded (none when it ran over every row)
  for (int64_t i0 = 0; i0 < N;) {
    if (!lse_known_.empty() && lse_known_[i0]) {
      ++i0;
      continue;
    }
    int64_t i1 = i0 + 1;
    while (i1 < N && i1 - i0 < c && (lse_known_.empty() || !lse_known_[i1])) ++i1;
    chunk(i0, i1, nullptr);
    i0 = i1;
  }
  if (targets_host_.empty()) targets_host_ = targets_.to_vector<int64_t>();
}

// The block through the cross-entropy backward with the full rows' logsumexp: (exp(x - lse) -
// onehot) * s, with x the block's logits plus one dummy column (a zero row appended to W's
// block) that takes the onehot of every row whose target lies outside the block; the dummy is
// then dropped. One threaded pass over [N, b + 1] instead of a chain of five elementwise ops
// (which took twice as long as the Gram update itself at N = 2048, V = 50257). Ignored rows get
// the marker -1, which no column has, whatever ignore_index is; the kernel writes them as zeros.
Tensor SoftmaxGradSource::columns(int64_t v0, int64_t v1) const {
  const int64_t N = rows(), b = v1 - v0, D = W_.shape()[1];
  if (N == 0 || b == 0) return zeros({N, b}, H_.dtype(), H_.device());
  if (targets_host_.empty()) fail("head_metrics", "internal: columns() before prepare_columns()");
  const Tensor Wb = op::concat({op::narrow(W_, 0, v0, b), zeros({1, D}, W_.dtype(), W_.device())}, 0);
  Tensor L = empty({N, b + 1}, H_.dtype(), H_.device());
  op::addmm_(L, H_, Wb, false, true, 1.0, 0.0);  // logits [N, b + 1], the last column 0
  std::vector<int64_t> t(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) {
    const int64_t y = targets_host_[i];
    t[i] = !valid_[i] ? -1 : (y >= v0 && y < v1 ? y - v0 : b);
  }
  const Tensor grad = op::cross_entropy_backward(L, op::to(from_vector(t), H_.device()), lse_, scale_, -1);
  return op::narrow(grad, 1, 0, b);
}

// Every rank's H rows, targets and logsumexps: a source of all the rows whose column blocks need
// no logits pass of their own (the logsumexps come from the ranks' metrics passes).
std::unique_ptr<GradSource> SoftmaxGradSource::all_rows(comm::Communicator& c, int64_t rows_per_chunk) const {
  prepare_columns(rows_per_chunk);  // this rank's logsumexps, where its pass did not record them
  const Tensor lse = lse_.defined() ? lse_ : empty({0}, H_.dtype(), H_.device());  // a shard of no rows
  auto all = std::make_unique<SoftmaxGradSource>(detail::all_rows(c, H_), W_, detail::all_rows(c, targets_),
                                                 ignore_index_, n_all_);
  all->lse_ = detail::all_rows(c, lse);
  all->lse_known_.assign(static_cast<size_t>(all->rows()), 1);
  return all;
}

std::unique_ptr<GradSource> ExplicitGradSource::all_rows(comm::Communicator& c, int64_t) const {
  return std::make_unique<ExplicitGradSource>(detail::all_rows(c, G_));
}

ExplicitGradSource::ExplicitGradSource(Tensor G) : G_(std::move(G)), valid_(static_cast<size_t>(G_.shape()[0]), 1) {}

Tensor ExplicitGradSource::chunk(int64_t i0, int64_t i1, double* loss_sum) const {
  if (loss_sum) *loss_sum = std::numeric_limits<double>::quiet_NaN();
  return op::contiguous(op::narrow(G_, 0, i0, i1 - i0));
}

// a strided view: its one copy is the float64 one the Gram update makes
Tensor ExplicitGradSource::columns(int64_t v0, int64_t v1) const { return op::narrow(G_, 1, v0, v1 - v0); }

int64_t chunk_rows(const HeadMetricsOptions& opts, int64_t rows, int64_t vocab, DType dtype) {
  int64_t c = opts.chunk;
  if (c <= 0) {
    const int64_t per_row = 2 * std::max<int64_t>(vocab, 1) * static_cast<int64_t>(dtype_size(dtype));
    c = opts.memory_budget_bytes / per_row;
  }
  return std::clamp<int64_t>(c, 1, std::max<int64_t>(rows, 1));
}

PerTokenDestroyed per_token_summary(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  PerTokenDestroyed p;
  p.count = static_cast<int64_t>(values.size());
  if (values.empty()) {
    p.mean = p.p5 = p.p50 = p.p95 = std::numeric_limits<double>::quiet_NaN();
    return p;
  }
  double sum = 0;
  for (double x : values) sum += x;
  p.mean = sum / static_cast<double>(values.size());
  p.p5 = percentile(values, 0.05);
  p.p50 = percentile(values, 0.50);
  p.p95 = percentile(values, 0.95);
  return p;
}

double percentile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double f = pos - static_cast<double>(lo);
  return sorted[lo] + f * (sorted[hi] - sorted[lo]);
}

// NaN or Inf anywhere in x [R, C] shows as a non-finite float64 row sum of squares (a finite
// float32 row cannot overflow it; float64 entries beyond 1e154 would, and are reported too).
void check_finite(const char* what, const Tensor& x) {
  const std::vector<double> rs = op::row_sumsq(x).to_vector<double>();
  for (size_t i = 0; i < rs.size(); ++i) {
    if (std::isfinite(rs[i])) continue;
    // a non-finite sum of squares: a NaN or Inf entry, or finite entries whose squares overflow
    // (1e300 in float64); the two need different fixes, so the message tells them apart
    const int64_t row = static_cast<int64_t>(i);
    const std::vector<double> r = op::narrow(x, 0, row, 1).to_vector<double>();
    double big = 0;
    bool finite = true;
    for (double e : r) finite &= std::isfinite(e), big = std::max(big, std::abs(e));
    if (finite)
      fail("head_metrics", what, " ", shape_str(x.shape()), " has entries too large to square in ", dtype_name(x.dtype()),
           " (|x| up to ", big, " in row ", row, "): the metrics need finite squared norms; rescale it");
    fail("head_metrics", what, " ", shape_str(x.shape()), " has NaN or Inf (first in row ", row, ")");
  }
}

void check_matrix(const char* what, const Tensor& x) {
  if (!x.defined()) fail("head_metrics", what, " is undefined");
  if (x.dim() != 2) fail("head_metrics", what, " must be 2-d, got ", shape_str(x.shape()));
  if (!is_floating(x.dtype())) fail("head_metrics", what, " must be float32 or float64, got ", dtype_name(x.dtype()));
}

void check_basis(const HeadBasis& b, int64_t V, int64_t D, const std::string& against, const std::string& hint) {
  if (!b.Q.defined() || b.Q.dim() != 2 || b.Q.shape()[0] != V || b.Q.shape()[1] != b.rank || !b.coeffs.defined() ||
      b.coeffs.shape() != Shape{b.rank, D} || b.coeffs.dtype() != kFloat64) {
    // the matrix the basis was made from, [rows of Q, columns of coeffs], when it can be told
    std::string from;
    if (b.Q.defined() && b.Q.dim() == 2 && b.coeffs.defined() && b.coeffs.dim() == 2)
      from = ", of a [" + std::to_string(b.Q.shape()[0]) + ", " + std::to_string(b.coeffs.shape()[1]) + "] matrix";
    fail("head_metrics", "basis (Q ", b.Q.defined() ? shape_str(b.Q.shape()) : "undefined", ", rank ", b.rank, from,
         ") does not match ", against, ": ", hint);
  }
}

// The compute dtype: the input's, or float64 when promoted.
DType compute_dtype(DType in, const HeadMetricsOptions& o) { return o.promote_float64 ? kFloat64 : in; }

// Q in the compute dtype and device (a copy only when they differ from the basis's).
HeadBasis basis_for(const HeadBasis& b, DType dt, Device dev) {
  HeadBasis out = b;
  out.Q = op::to(op::to(b.Q, dt), dev);
  return out;
}

int64_t count_valid(const Tensor& targets, int64_t ignore_index) {
  int64_t n = 0;
  for (int64_t t : targets.to_vector<int64_t>()) n += t != ignore_index;
  return n;
}

// Every target in [0, V) or == ignore_index, and (require_valid) at least one valid.
void check_target_values(const Tensor& targets, int64_t V, int64_t ignore_index, bool require_valid) {
  const std::vector<int64_t> t = targets.to_vector<int64_t>();
  const int64_t N = static_cast<int64_t>(t.size());
  int64_t n_valid = 0;
  for (int64_t i = 0; i < N; ++i) {
    if (t[i] == ignore_index) continue;
    if (t[i] < 0 || t[i] >= V)
      fail("head_metrics", "target ", t[i], " at row ", i, " is out of range for V = ", V, " (and not ignore_index ",
           ignore_index, ")");
    ++n_valid;
  }
  if (require_valid && n_valid == 0)
    fail("head_metrics", "no valid targets: all ", N, " rows are ignore_index (", ignore_index, ")");
}

}  // namespace detail

namespace {

constexpr const char* kOp = "head_metrics";

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The communicator when it spans several ranks; null selects the one-process paths.
comm::Communicator* ranks_of(const HeadMetricsOptions& o) { return spans_ranks(o.comm) ? o.comm : nullptr; }

// Header fields, the pass and the spectrum, shared by head_metrics and grad_metrics.
HeadMetrics assemble(const detail::GradSource& src, const Tensor& H, const HeadBasis& basis, int64_t dim,
                     const HeadMetricsOptions& opts, double basis_s) {
  HeadMetrics m;
  m.vocab = src.vocab();
  m.dim = dim;
  m.basis_rank = basis.rank;
  m.rank_tol = basis.rel_tol;
  m.run.basis_s = basis_s;
  const int64_t chunk = detail::chunk_rows(opts, src.rows(), src.vocab(), src.dtype());
  m.run.chunk = chunk;
  auto t0 = std::chrono::steady_clock::now();
  // the sources below make G with the global 1 / n_all already: the rows need no rescaling
  detail::metrics_pass(src, H, basis, chunk, opts.update_terms, m, detail::Shard{ranks_of(opts), 1.0});
  m.run.pass_s = seconds_since(t0);
  if (opts.topk > 0 || opts.exact_spectrum) {
    t0 = std::chrono::steady_clock::now();
    m.spectrum = detail::spectrum(src, m.logit_grad_norm * m.logit_grad_norm, dim, opts, chunk);
    m.run.spectrum_s = seconds_since(t0);
  }
  return m;
}

// All checks of head_metrics except the basis's. require_valid: at least one valid target here
// (across ranks, check_inputs asks it of all the ranks' targets instead).
void validate(const Tensor& H_in, const Tensor& W_in, const Tensor& targets, const HeadMetricsOptions& opts,
              bool require_valid = true) {
  detail::check_matrix("H", H_in);
  detail::check_matrix("W", W_in);
  const int64_t N = H_in.shape()[0], D = H_in.shape()[1], V = W_in.shape()[0];
  if (W_in.shape()[1] != D)
    fail(kOp, "H ", shape_str(H_in.shape()), " and W ", shape_str(W_in.shape()), " disagree on D (W must be [V, D])");
  if (H_in.dtype() != W_in.dtype())
    fail(kOp, "H is ", dtype_name(H_in.dtype()), " but W is ", dtype_name(W_in.dtype()));
  if (!targets.defined() || targets.dtype() != kInt64 || targets.shape() != Shape{N})
    fail(kOp, "targets must be int64 [", N, "] for H ", shape_str(H_in.shape()), ", got ",
         targets.defined() ? std::string(dtype_name(targets.dtype())) + " " + shape_str(targets.shape()) : "undefined");
  if (H_in.device() != W_in.device() || targets.device() != H_in.device()) fail(kOp, "H, W and targets on different devices");
  if (V == 0) fail(kOp, "W ", shape_str(W_in.shape()), " has no rows (V = 0)");
  detail::check_target_values(targets, V, opts.ignore_index, require_valid);
  detail::check_finite("H", H_in);
  detail::check_finite("W", W_in);
}

// validate(), on this process alone; across ranks on every rank (all throw if one fails), then
// what the ranks must share: W's shape and dtype, the basis when given, the options, and at least
// one valid target among all of them.
void check_inputs(const Tensor& H, const Tensor& W, const Tensor& targets, const HeadBasis* basis,
                  const HeadMetricsOptions& opts) {
  comm::Communicator* c = ranks_of(opts);
  if (!c) return validate(H, W, targets, opts);
  detail::check_on_every_rank(*c, kOp, [&] {
    validate(H, W, targets, opts, /*require_valid=*/false);
    if (basis) detail::check_basis(*basis, W.shape()[0], H.shape()[1], "W " + shape_str(W.shape()), "use head_basis(W)");
  });
  detail::check_same_everywhere(*c, kOp, {W.shape()[0], W.shape()[1], static_cast<int64_t>(W.dtype())},
                                "W's shape or dtype");
  detail::check_same_options(*c, kOp, opts);
  if (detail::sum_over(*c, detail::count_valid(targets, opts.ignore_index)) == 0)
    fail(kOp, "no valid targets on any of the ", c->size(), " ranks: every row is ignore_index (", opts.ignore_index, ")");
}

// head_metrics after validation.
HeadMetrics run_validated(const Tensor& H_in, const Tensor& W_in, const Tensor& targets, const HeadBasis& basis,
                          const HeadMetricsOptions& opts, double basis_s) {
  const int64_t D = H_in.shape()[1], V = W_in.shape()[0];
  detail::check_basis(basis, V, D, "W " + shape_str(W_in.shape()), "use head_basis(W)");
  const DType dt = detail::compute_dtype(H_in.dtype(), opts);
  const Tensor H = op::contiguous(op::to(H_in, dt)), W = op::contiguous(op::to(W_in, dt));
  // across ranks G's mean runs over every rank's valid rows
  comm::Communicator* c = ranks_of(opts);
  const int64_t n_all = c ? detail::sum_over(*c, detail::count_valid(targets, opts.ignore_index)) : -1;
  const detail::SoftmaxGradSource src(H, W, op::contiguous(targets), opts.ignore_index, n_all);
  return assemble(src, H, detail::basis_for(basis, dt, H.device()), D, opts, basis_s);
}

}  // namespace

HeadBasis head_basis(const Tensor& W, double rank_tol) {
  detail::check_matrix("W", W);
  return op::orthonormal_basis(W, rank_tol);
}

HeadMetrics head_metrics(const Tensor& H, const Tensor& W, const Tensor& targets, const HeadMetricsOptions& opts) {
  check_inputs(H, W, targets, nullptr, opts);
  const auto t0 = std::chrono::steady_clock::now();
  const HeadBasis basis = head_basis(opts.promote_float64 ? op::to(W, kFloat64) : W, opts.rank_tol);
  return run_validated(H, W, targets, basis, opts, seconds_since(t0));
}

HeadMetrics head_metrics(const Tensor& H, const Tensor& W, const Tensor& targets, const HeadBasis& basis,
                         const HeadMetricsOptions& opts) {
  check_inputs(H, W, targets, &basis, opts);
  return run_validated(H, W, targets, basis, opts, 0.0);
}

HeadMetrics grad_metrics(const Tensor& G_in, const Tensor& H_in, const HeadBasis& basis, const HeadMetricsOptions& opts) {
  int64_t N = 0, V = 0, D = 0;
  const auto checks = [&] {
    detail::check_matrix("G", G_in);
    N = G_in.shape()[0], V = G_in.shape()[1];
    D = basis.coeffs.defined() && basis.coeffs.dim() == 2 ? basis.coeffs.shape()[1] : 0;
    // G is the only matrix given: the basis must have its V rows
    detail::check_basis(basis, V, D, "G " + shape_str(G_in.shape()),
                        "Q must have G's V = " + std::to_string(V) + " rows; pass head_basis(M) of the [V, k] head matrix M");
    detail::check_finite("G", G_in);
    if (H_in.defined()) {
      detail::check_matrix("H", H_in);
      if (H_in.shape() != Shape{N, D})
        fail(kOp, "H ", shape_str(H_in.shape()), " must be [N, D] = [", N, ", ", D, "] for G ", shape_str(G_in.shape()));
      detail::check_finite("H", H_in);
    }
  };
  if (comm::Communicator* c = ranks_of(opts)) {
    detail::check_on_every_rank(*c, kOp, checks);
    detail::check_same_everywhere(*c, kOp, {V, D, static_cast<int64_t>(G_in.dtype()), H_in.defined() ? 1 : 0},
                                  "G's width V or dtype, the basis's D or whether H is given");
    detail::check_same_options(*c, kOp, opts);
  } else {
    checks();
  }
  const DType dt = detail::compute_dtype(G_in.dtype(), opts);
  Tensor H;
  if (H_in.defined()) H = op::contiguous(op::to(op::to(H_in, dt), G_in.device()));
  const detail::ExplicitGradSource src(op::contiguous(op::to(G_in, dt)));
  HeadMetrics m = assemble(src, H, detail::basis_for(basis, dt, G_in.device()), D, opts, 0.0);
  m.loss = std::numeric_limits<double>::quiet_NaN();
  return m;
}

Tensor logit_grad(const Tensor& H, const Tensor& W, const Tensor& targets, int64_t ignore_index) {
  const detail::SoftmaxGradSource src(H, W, targets, ignore_index);
  return src.chunk(0, H.shape()[0], nullptr);
}

LogitGradSplit split_logit_grad(const Tensor& G, const HeadBasis& basis) {
  const Tensor Q = op::to(op::to(basis.Q, G.dtype()), G.device());
  Tensor visible = op::matmul(op::matmul(G, Q), Q, false, true);
  Tensor destroyed = op::sub(G, visible);
  return {visible, destroyed};
}

}  // namespace gs::analysis
