#include "analysis/jacobian_metric.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "analysis/data_parallel.h"
#include "analysis/head_internal.h"
#include "analysis/head_shards.h"
#include "autograd/jvp.h"
#include "autograd/ops.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace gs::analysis {
namespace {

constexpr const char* kOp = "jacobian_destroyed";

void check_inputs(const Tensor& H, const Tensor& G) {
  if (!H.defined() || !G.defined()) fail(kOp, "H and G must be defined");
  if (H.dim() != 2) fail(kOp, "H must be 2-d [N, D], got ", shape_str(H.shape()));
  if (G.dim() != 2 || G.size(0) != H.size(0))
    fail(kOp, "G must be [N, V] with H's N = ", H.size(0), ", got ", shape_str(G.shape()));
  if (!is_floating(H.dtype()) || G.dtype() != H.dtype())
    fail(kOp, "H and G must share a floating-point dtype, got ", dtype_name(H.dtype()), " and ", dtype_name(G.dtype()));
  if (G.device() != H.device())
    fail(kOp, "H on ", device_name(H.device()), " but G on ", device_name(G.device()));
}

// The chunk's Jacobians [c, V, D] in float64 on the host: column i of every J_t from one jvp with
// the tangent e_i on every row.
std::vector<double> chunk_jacobian(const HeadFunction& f, const Tensor& Hc, int64_t V, int64_t* jvps) {
  const int64_t c = Hc.size(0), D = Hc.size(1);
  std::vector<double> J(static_cast<size_t>(c * V * D));
  for (int64_t i = 0; i < D; ++i) {
    Tensor E = zeros({c, D}, Hc.dtype(), Hc.device());
    op::copy_(op::narrow(E, 1, i, 1), full({c, 1}, 1.0, Hc.dtype(), Hc.device()));
    const Tensor Ji = jvp([&](const std::vector<Tensor>& x) { return std::vector<Tensor>{f(x[0])}; }, {Hc}, {E})[0];
    ++*jvps;
    if (Ji.dim() != 2 || Ji.size(0) != c || Ji.size(1) != V)
      fail(kOp, "the head maps ", shape_str(Hc.shape()), " to ", shape_str(Ji.shape()), ", expected [", c, ", ", V,
           "] (logits row by row)");
    const std::vector<double> col = op::to(op::to(Ji, Device::CPU), kFloat64).to_vector<double>();
    for (int64_t t = 0; t < c; ++t)
      for (int64_t v = 0; v < V; ++v) J[static_cast<size_t>((t * V + v) * D + i)] = col[static_cast<size_t>(t * V + v)];
  }
  return J;
}

}  // namespace

JacobianMetrics jacobian_destroyed(const HeadFunction& f, const Tensor& H_in, const Tensor& G_in,
                                   const JacobianMetricOptions& opt) {
  check_inputs(H_in, G_in);
  if (!f) fail(kOp, "the head function is empty");
  NoGradGuard no_grad;  // the jvps need no reverse-mode graph
  const Tensor H = op::contiguous(detach(H_in));
  const std::vector<double> G = op::to(op::to(G_in, Device::CPU), kFloat64).to_vector<double>();
  const int64_t N = H.size(0), D = H.size(1), V = G_in.size(1);
  for (size_t k = 0; k < G.size(); ++k)
    if (!std::isfinite(G[k])) fail(kOp, "G has NaN or Inf entries (row ", static_cast<int64_t>(k) / std::max<int64_t>(V, 1), ")");

  JacobianMetrics m;
  m.vocab = V, m.dim = D;
  const int64_t per_token = std::max<int64_t>(V * D * 8, 1);
  m.chunk = std::clamp<int64_t>(opt.chunk > 0 ? opt.chunk : opt.memory_budget_bytes / per_token, 1, std::max<int64_t>(N, 1));
  double total = 0, visible = 0, destroyed = 0;
  std::vector<double> per;
  m.min_rank = D, m.max_rank = 0;
  for (int64_t i0 = 0; i0 < N; i0 += m.chunk) {
    const int64_t c = std::min(m.chunk, N - i0);
    const std::vector<double> J = chunk_jacobian(f, op::narrow(H, 0, i0, c), V, &m.jvps);
    for (int64_t t = 0; t < c; ++t) {
      const double* g = G.data() + (i0 + t) * V;
      double gg = 0;
      for (int64_t v = 0; v < V; ++v) gg += g[v] * g[v];
      if (gg == 0) continue;  // an ignored target (or a zero gradient): nothing to destroy
      const std::vector<double> Jt(J.begin() + t * V * D, J.begin() + (t + 1) * V * D);
      const op::OrthonormalBasis b = op::orthonormal_basis(from_vector(Jt, {V, D}), opt.rank_tol);
      const int64_t r = b.rank;
      const std::vector<double> Q = r > 0 ? op::to(b.Q, kFloat64).to_vector<double>() : std::vector<double>();  // [V, r]
      std::vector<double> coef(static_cast<size_t>(r), 0.0);
      for (int64_t v = 0; v < V; ++v)
        for (int64_t k = 0; k < r; ++k) coef[k] += Q[v * r + k] * g[v];
      double res = 0, vis = 0;
      for (int64_t k = 0; k < r; ++k) vis += coef[k] * coef[k];
      for (int64_t v = 0; v < V; ++v) {
        double p = 0;
        for (int64_t k = 0; k < r; ++k) p += Q[v * r + k] * coef[k];
        res += (g[v] - p) * (g[v] - p);
      }
      total += gg, visible += vis, destroyed += res;
      per.push_back(std::sqrt(res / gg));
      m.min_rank = std::min(m.min_rank, r), m.max_rank = std::max(m.max_rank, r);
      ++m.tokens;
    }
  }
  if (spans_ranks(opt.comm)) {
    // every rank's sums and per-token values: the figures of all the rows, on every rank
    comm::Communicator& c = *opt.comm;
    std::vector<double> sums = {total, visible, destroyed};
    detail::sum_over(c, sums);
    total = sums[0], visible = sums[1], destroyed = sums[2];
    // a rank without counted rows has min_rank D and max_rank 0 (neutral for min and max)
    const std::vector<int64_t> lows = detail::every_rank(c, m.min_rank), highs = detail::every_rank(c, m.max_rank);
    m.min_rank = *std::min_element(lows.begin(), lows.end());
    m.max_rank = *std::max_element(highs.begin(), highs.end());
    m.tokens = detail::sum_over(c, m.tokens);
    if (m.tokens == 0) fail(kOp, "G has no non-zero row on any of the ", c.size(), " ranks: nothing to measure");
    m.logit_grad_norm = std::sqrt(total);
    m.visible_norm = std::sqrt(visible);
    m.destroyed_fraction = std::sqrt(destroyed / total);
    m.per_token = detail::per_token_across(c, per);
    return m;
  }
  if (m.tokens == 0) fail(kOp, "G has no non-zero row: nothing to measure");
  m.logit_grad_norm = std::sqrt(total);
  m.visible_norm = std::sqrt(visible);
  m.destroyed_fraction = std::sqrt(destroyed / total);
  std::sort(per.begin(), per.end());
  double sum = 0;
  for (double x : per) sum += x;
  m.per_token = {sum / static_cast<double>(per.size()), detail::percentile(per, 0.05), detail::percentile(per, 0.5),
                 detail::percentile(per, 0.95), static_cast<int64_t>(per.size())};
  return m;
}

const std::string& apply_exact_metric(HeadMetrics& m, const nn::LMHead& head, const Tensor& hidden, const Tensor& G,
                                      const JacobianMetricOptions& opt) {
  if (head.linear()) {
    m.metric = "column_space";
    return m.metric;
  }
  const Tensor h = detach(op::reshape(hidden, {-1, hidden.size(-1)}));
  const JacobianMetrics j = jacobian_destroyed([&](const Tensor& x) { return head.forward(x); }, h, detach(G), opt);
  m.column_space_destroyed_fraction = m.destroyed_fraction;
  m.destroyed_fraction = j.destroyed_fraction;
  m.visible_norm = j.visible_norm;
  m.visible_cosine = j.visible_norm / j.logit_grad_norm;
  m.per_token = j.per_token;
  m.metric = "jacobian";
  return m.metric;
}

}  // namespace gs::analysis
