// Singular values of the logit gradient G [N, V], never stored whole on the randomized path.
//
// Randomized (Halko, Martinsson & Tropp 2011, subspace iteration; power_iters = their q):
//   Omega [V, l] Gaussian, l = k + oversample (at most min(N, V));
//   q + 1 times: Z = G^T (G Omega) in one pass over row chunks (Y_c = G_c Omega, Z += G_c^T Y_c),
//     then Omega = orth(Z) (QR + rank check, ops_cpu/linalg_lapack.h);
//   a last pass: Y = G Omega [N, l]; the singular values of Y (LAPACK) approximate the top l of G
//   from below, and the top k are reported.
// With Omega = orth(G^T Q_Y) for HMT's Q_Y = orth((G G^T)^q G Omega_0), the values of G Omega lie
// between those of HMT's B = Q_Y^T G and those of G (B's rows span Omega), so this is at least as
// accurate as HMT with q iterations, for 2q + 3 applications of G (HMT: 2q + 2) but only q + 2
// recomputations of G's chunks (HMT: 2q + 2), each of which costs a logits product.
// Exact: G materialised [N, V] and all singular values by dgesdd (small problems only).
#include <algorithm>
#include <cmath>
#include <limits>

#include "analysis/head_internal.h"
#include "tensor/ops.h"

namespace gs::analysis::detail {
namespace {

// Fills the derived fields from descending values; `complete`: the values are all of G's, so
// components never run out and the tail sum gives the Eckart-Young-Mirsky bound directly.
void summarise(SpectrumMetrics& s, const std::vector<double>& values, int64_t k, double g_sq, int64_t dim,
               int64_t rank_cap, bool complete) {
  const double total = complete ? [&] {
    double t = 0;
    for (double x : values) t += x * x;
    return t;
  }()
                                : g_sq;
  s.topk = k;
  s.singular_values.assign(values.begin(), values.begin() + k);
  const std::vector<double> fracs = {0.70, 0.90, 0.99, 0.999};
  int64_t* slots[] = {&s.components_for_70, &s.components_for_90, &s.components_for_99, &s.components_for_999};
  const int64_t avail = complete ? static_cast<int64_t>(values.size()) : k;
  for (size_t f = 0; f < fracs.size(); ++f) {
    double cum = 0;
    *slots[f] = -1;
    if (total <= 0) continue;
    for (int64_t i = 0; i < avail; ++i) {
      cum += values[i] * values[i];
      if (cum >= fracs[f] * total) {
        *slots[f] = i + 1;
        break;
      }
    }
    // With every value known, rounding can leave the last sum a hair short of the total.
    if (*slots[f] < 0 && complete) *slots[f] = avail;
  }
  const int64_t m = 2 * dim;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (g_sq <= 0) {
    s.eym_bound_2d = nan;
  } else if (m >= rank_cap) {
    s.eym_bound_2d = 0;  // a rank-2D update can reproduce G exactly
  } else if (complete) {
    double tail = 0;
    for (size_t i = static_cast<size_t>(m); i < values.size(); ++i) tail += values[i] * values[i];
    s.eym_bound_2d = std::sqrt(tail / total);
  } else if (k >= m) {
    double head = 0;
    for (int64_t i = 0; i < m; ++i) head += values[i] * values[i];
    s.eym_bound_2d = std::sqrt(std::max(0.0, g_sq - head) / g_sq);
  } else {
    s.eym_bound_2d = nan;
  }
}

}  // namespace

SpectrumMetrics spectrum(const GradSource& src, double g_sq, int64_t dim, const HeadMetricsOptions& opts,
                         int64_t chunk) {
  const int64_t N = src.rows(), V = src.vocab();
  // G's rank is at most the number of nonzero rows, and V - 1 for softmax rows (they sum to 0);
  // min(valid rows, V) is the cap used for "every component".
  const int64_t rank_cap = std::min(src.valid_count(), V);
  const int64_t kmax = std::min(N, V);
  SpectrumMetrics s;
  if (kmax == 0) return s;

  if (opts.exact_spectrum) {
    const double bytes = static_cast<double>(N) * static_cast<double>(V) * (dtype_size(src.dtype()) * 2.0 + 8.0);
    if (bytes > static_cast<double>(opts.memory_budget_bytes))
      fail("head_metrics", "exact_spectrum needs ", static_cast<int64_t>(bytes / (1 << 20)), " MiB for G [", N, ", ",
           V, "], over memory_budget_bytes (", opts.memory_budget_bytes >> 20,
           " MiB): use the randomized spectrum (topk) or raise the budget");
    const std::vector<double> values = op::svd_values(src.chunk(0, N, nullptr));
    const int64_t k = opts.topk > 0 ? std::min(opts.topk, kmax) : kmax;
    s.exact = true;
    summarise(s, values, k, g_sq, dim, rank_cap, true);
    return s;
  }

  const int64_t l0 = std::min(opts.topk + std::max<int64_t>(opts.oversample, 0), kmax);
  Generator gen(opts.seed);
  Tensor omega = op::to(randn({V, l0}, gen, src.dtype()), src.device());
  const int passes = std::max(opts.power_iters, 0) + 1;
  for (int it = 0; it < passes && omega.shape()[1] > 0; ++it) {
    Tensor Z = zeros({V, omega.shape()[1]}, src.dtype(), src.device());
    for (int64_t i0 = 0; i0 < N; i0 += chunk) {
      const Tensor G = src.chunk(i0, std::min(N, i0 + chunk), nullptr);
      op::addmm_(Z, G, op::matmul(G, omega), true, false);
    }
    omega = Tensor();  // free before the factorisation's float64 copy
    omega = op::orthonormal_basis(Z).Q;
  }
  const int64_t l = omega.shape()[1];
  std::vector<double> values;
  if (l > 0) {
    Tensor Y = empty({N, l}, src.dtype(), src.device());
    for (int64_t i0 = 0; i0 < N; i0 += chunk) {
      const int64_t c = std::min(chunk, N - i0);
      op::copy_(op::narrow(Y, 0, i0, c), op::matmul(src.chunk(i0, i0 + c, nullptr), omega));
    }
    values = op::svd_values(Y);
  }
  const int64_t k = std::min<int64_t>(std::min(opts.topk, kmax), static_cast<int64_t>(values.size()));
  summarise(s, values, k, g_sq, dim, rank_cap, false);
  return s;
}

}  // namespace gs::analysis::detail
