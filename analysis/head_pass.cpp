// The one chunked pass of the head metrics (analysis/head_bottleneck.h has the formulas).
// Per chunk of c rows: G_c [c, V] from the source, P = G_c Q [c, r], the per-row squares
// ||g||^2 and ||g Q||^2, the destroyed part (subtracted, or direct where it would cancel), and
// the update-term accumulators: A = P K (= G_c W), ||P K K^T||^2, H_c^T A, H_c^T H_c (D x D,
// float64) and G_c^T H_c added into one [V, D] buffer (the head's weight gradient). Across ranks
// (Shard) finish() sums those accumulators over the ranks before the same formulas run.
#include <algorithm>
#include <cmath>
#include <limits>

#include "analysis/head_internal.h"
#include "analysis/head_shards.h"
#include "tensor/ops.h"

namespace gs::analysis::detail {
namespace {

// A row's destroyed square ||g||^2 - ||gQ||^2 loses relative accuracy ||g||^2 / destroyed as the
// visible part takes over; below this share of ||g||^2 it is recomputed as ||g - (gQ)Q^T||^2.
// At 1/2 the subtraction loses at most a factor 2 over the rounding of the two squares.
constexpr double kDirectBelow = 0.5;

// Rows of Bt [V, D] converted to float64 per block (bounded temporary) for B B^T = Bt^T Bt.
constexpr int64_t kGramBlock = 4096;

double sum_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

// The update cosine and head term from the float64 sums: c = B B^T and sh = H^T H [D, D] (row
// major), cross = ||H^T G W||^2, a2 = ||G W||^2, bb = ||G W W^T||^2, g_sq = ||G||^2.
void update_from_products(const std::vector<double>& c, const std::vector<double>& sh, int64_t D, double cross,
                          double a2, double bb, double g_sq, UpdateMetrics& out) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  double hg2 = 0, hh = 0;  // ||H^T G||^2 = tr(C), ||H H^T G||^2 = <H^T H, C>
  for (int64_t i = 0; i < D; ++i) hg2 += c[i * D + i];
  for (size_t e = 0; e < c.size(); ++e) hh += sh[e] * c[e];
  const double inner = a2 + hg2;            // <U, G>
  const double u_sq = bb + hh + 2 * cross;  // ||U||^2
  out.head_term_norm = std::sqrt(std::max(0.0, hh));
  out.cosine = u_sq > 0 && g_sq > 0 ? inner / (std::sqrt(u_sq) * std::sqrt(g_sq)) : nan;
}

}  // namespace

// Accumulators of the update terms, all float64, on the chunks' device (the small products stay
// where the chunks are: on a GPU nothing of size c x D travels to the host), and the pass's sums.
struct MetricsPass::Acc {
  bool with_update = false, head_term = false;
  Tensor K;      // [r, D] = Q^T W
  Tensor KKt;    // [r, r] = K K^T
  Tensor X;      // [D, D] += H_c^T A_c  -> H^T G W
  Tensor SH;     // [D, D] += H_c^T H_c over valid rows
  Tensor Bt;     // [V, D] += G_c^T H_c (compute dtype)
  double a2 = 0;  // ||G W||^2
  double bb = 0;  // ||G W W^T||^2
  double loss = 0, g_sq = 0, vis_sq = 0, des_sq = 0;
  int64_t direct_rows = 0;
  std::vector<double> per_token;
};

MetricsPass::MetricsPass(std::vector<uint8_t> valid, const HeadBasis& basis, int64_t vocab, int64_t D, bool head_term,
                         DType dtype, Device device)
    : valid_(std::move(valid)), Q_(basis.Q), acc_(std::make_unique<Acc>()) {
  Acc& u = *acc_;
  u.with_update = D > 0;
  u.head_term = head_term && D > 0;
  for (uint8_t v : valid_) n_valid_ += v;
  u.per_token.reserve(static_cast<size_t>(n_valid_));
  if (u.with_update) {
    u.K = op::to(basis.coeffs, device);
    u.KKt = op::matmul(u.K, u.K, false, true);
    if (u.head_term) {
      u.X = zeros({D, D}, kFloat64, device);
      u.SH = zeros({D, D}, kFloat64, device);
      u.Bt = zeros({vocab, D}, dtype, device);
    }
  }
}

MetricsPass::~MetricsPass() = default;

void MetricsPass::add(int64_t i0, const Tensor& G, const Tensor& Hc, double chunk_loss) {
  Acc& u = *acc_;
  const int64_t c = G.shape()[0];
  if (i0 != next_) fail("head_metrics", "internal: chunk at row ", i0, ", expected row ", next_);
  next_ += c;
  u.loss += chunk_loss;
  const Tensor P = op::matmul(G, Q_);  // [c, r]
  const std::vector<double> t = op::row_sumsq(G).to_vector<double>();
  const std::vector<double> v = op::row_sumsq(P).to_vector<double>();
  // H and W were checked finite; G can still overflow (logits beyond the dtype's range from
  // huge but finite inputs): say so here rather than let a NaN reach LAPACK in the spectrum
  for (int64_t i = 0; i < c; ++i)
    if (!std::isfinite(t[i]))
      fail("head_metrics", "the logit gradient G is not finite in row ", i0 + i, " (its logits overflow ",
           dtype_name(G.dtype()), "; the inputs are finite but too large: rescale H or W, or compute in float64)");
  std::vector<double> d(static_cast<size_t>(c));
  bool need_direct = false;
  for (int64_t i = 0; i < c; ++i) {
    d[i] = std::max(0.0, t[i] - v[i]);
    need_direct |= t[i] > 0 && d[i] < kDirectBelow * t[i];
  }
  if (need_direct) {
    Tensor R = op::matmul(P, Q_, false, true);  // (G Q) Q^T  [c, V]
    op::axpy_(R, -1.0, G);                       // -(G - G Q Q^T): same norm
    const std::vector<double> dd = op::row_sumsq(R).to_vector<double>();
    for (int64_t i = 0; i < c; ++i)
      if (t[i] > 0 && t[i] - v[i] < kDirectBelow * t[i]) {
        d[i] = dd[i];
        u.direct_rows += valid_[i0 + i];
      }
  }
  for (int64_t i = 0; i < c; ++i) {
    u.g_sq += t[i];
    u.vis_sq += v[i];
    u.des_sq += d[i];
    if (valid_[i0 + i] && t[i] > 0) u.per_token.push_back(std::sqrt(d[i] / t[i]));
  }

  if (!u.with_update) return;
  const Tensor P64 = op::to(P, kFloat64);
  const Tensor A = op::matmul(P64, u.K);  // G_c W  [c, D]
  u.a2 += sum_of(op::row_sumsq(A).to_vector<double>());
  u.bb += sum_of(op::row_sumsq(op::matmul(P64, u.KKt)).to_vector<double>());
  if (!u.head_term) return;
  Tensor H64 = op::contiguous(op::to(Hc, kFloat64));
  op::addmm_(u.X, H64, A, true, false);
  bool all_valid = true;
  for (int64_t i = 0; i < c; ++i) all_valid &= valid_[i0 + i] != 0;
  if (!all_valid) {
    std::vector<double> keep(static_cast<size_t>(c));
    for (int64_t i = 0; i < c; ++i) keep[i] = valid_[i0 + i];
    H64 = op::mul(H64, op::to(from_vector(keep, {c, 1}), H64.device()));
  }
  op::addmm_(u.SH, H64, H64, true, false);
  op::addmm_(u.Bt, G, Hc, true, false);
}

void MetricsPass::finish(HeadMetrics& out, const Shard& shard) {
  if (shard.comm && shard.comm->size() > 1) return finish_across(out, *shard.comm, shard.g_scale);
  Acc& u = *acc_;
  const int64_t N = static_cast<int64_t>(valid_.size());
  if (next_ != N) fail("head_metrics", "internal: the pass saw ", next_, " of ", N, " rows");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double g_sq = u.g_sq;
  out.tokens = n_valid_;
  out.loss = n_valid_ > 0 ? u.loss / static_cast<double>(n_valid_) : nan;
  out.logit_grad_norm = std::sqrt(g_sq);
  out.visible_norm = std::sqrt(u.vis_sq);
  out.destroyed_fraction = g_sq > 0 ? std::sqrt(u.des_sq / g_sq) : nan;
  out.visible_cosine = g_sq > 0 ? std::sqrt(u.vis_sq / g_sq) : nan;
  out.run.direct_rows = u.direct_rows;
  out.run.shard_grad_norm = out.logit_grad_norm;
  out.per_token = per_token_summary(std::move(u.per_token));

  out.update.rank_bound = 2 * out.dim;
  if (!u.with_update) {
    out.hidden_grad_norm = nan;
    out.update.cosine = out.update.backbone_term_norm = out.update.head_term_norm = nan;
    return;
  }
  out.hidden_grad_norm = std::sqrt(u.a2);
  out.update.backbone_term_norm = std::sqrt(u.bb);
  if (!u.head_term) {
    out.update.cosine = out.update.head_term_norm = nan;
    return;
  }
  // C = B B^T = Bt^T Bt [D, D] in float64, from row blocks of Bt.
  const int64_t V = u.Bt.shape()[0], D = u.Bt.shape()[1];
  Tensor C = zeros({D, D}, kFloat64, u.Bt.device());
  for (int64_t v0 = 0; v0 < V; v0 += kGramBlock) {
    const Tensor blk = op::contiguous(op::to(op::narrow(u.Bt, 0, v0, std::min(kGramBlock, V - v0)), kFloat64));
    op::addmm_(C, blk, blk, true, false);
  }
  u.Bt = Tensor();
  const std::vector<double> c = C.to_vector<double>(), sh = op::contiguous(u.SH).to_vector<double>();
  const double cross = sum_of(op::row_sumsq(u.X).to_vector<double>());  // ||H^T G W||^2
  update_from_products(c, sh, D, cross, u.a2, u.bb, g_sq, out.update);
}

// finish() across ranks: this rank's sums, scaled to the global G (every G-linear quantity by s,
// every square by s^2), summed over the ranks; the per-token values gathered on rank 0. Every
// figure then comes out of the same formulas as above, on every rank alike.
void MetricsPass::finish_across(HeadMetrics& out, comm::Communicator& ranks, double s) {
  Acc& u = *acc_;
  const int64_t N = static_cast<int64_t>(valid_.size());
  if (next_ != N) fail("head_metrics", "internal: the pass saw ", next_, " of ", N, " rows");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double s2 = s * s;
  // the loss is a sum of per-row losses: G's scale does not enter it
  std::vector<double> f = {u.loss, u.g_sq * s2, u.vis_sq * s2, u.des_sq * s2, u.a2 * s2, u.bb * s2};
  std::vector<int64_t> n = {n_valid_, u.direct_rows};
  sum_over(ranks, f);
  sum_over(ranks, n);
  const double g_sq = f[1];
  out.tokens = n[0];
  out.loss = n[0] > 0 ? f[0] / static_cast<double>(n[0]) : nan;
  out.logit_grad_norm = std::sqrt(g_sq);
  out.visible_norm = std::sqrt(f[2]);
  out.destroyed_fraction = g_sq > 0 ? std::sqrt(f[3] / g_sq) : nan;
  out.visible_cosine = g_sq > 0 ? std::sqrt(f[2] / g_sq) : nan;
  out.run.direct_rows = n[1];
  out.run.shard_grad_norm = std::sqrt(u.g_sq);
  out.per_token = per_token_across(ranks, u.per_token);  // each value a ratio: no scale

  out.update.rank_bound = 2 * out.dim;
  if (!u.with_update) {
    out.hidden_grad_norm = nan;
    out.update.cosine = out.update.backbone_term_norm = out.update.head_term_norm = nan;
    return;
  }
  out.hidden_grad_norm = std::sqrt(f[4]);
  out.update.backbone_term_norm = std::sqrt(f[5]);
  if (!u.head_term) {
    out.update.cosine = out.update.head_term_norm = nan;
    return;
  }
  // H^T G W (linear in G), H^T H (none), and G^T H [V, D]: B B^T needs the sum of every rank's
  // G_r^T H_r before it is squared, so the V x D matrix itself travels (as in a data-parallel
  // step's weight gradient), in float64
  Tensor X = op::mul(u.X, s), SH = u.SH;
  sum_in_place(ranks, X);
  sum_in_place(ranks, SH);
  const int64_t V = u.Bt.shape()[0], D = u.Bt.shape()[1];
  std::vector<double> bt = u.Bt.to_vector<double>();
  u.Bt = Tensor();
  for (double& x : bt) x *= s;
  sum_over(ranks, bt);
  const Tensor B64 = from_vector(bt, {V, D});
  bt = {};
  const std::vector<double> c = op::matmul(B64, B64, true, false).to_vector<double>();  // B B^T [D, D]
  const std::vector<double> sh = op::contiguous(SH).to_vector<double>();
  const double cross = sum_of(op::row_sumsq(X).to_vector<double>());
  update_from_products(c, sh, D, cross, f[4], f[5], g_sq, out.update);
}

void metrics_pass(const GradSource& src, const Tensor& H, const HeadBasis& basis, int64_t chunk, bool head_term,
                  HeadMetrics& out, const Shard& shard) {
  const int64_t N = src.rows();
  MetricsPass pass(src.valid(), basis, src.vocab(), H.defined() ? H.shape()[1] : 0, head_term, src.dtype(),
                   src.device());
  for (int64_t i0 = 0; i0 < N; i0 += chunk) {
    const int64_t c = std::min(chunk, N - i0);
    double chunk_loss = 0;
    const Tensor G = src.chunk(i0, i0 + c, &chunk_loss);
    pass.add(i0, G, H.defined() ? op::narrow(H, 0, i0, c) : Tensor(), chunk_loss);
  }
  pass.finish(out, shard);
}

}  // namespace gs::analysis::detail
