// Singular values of the logit gradient G [N, V], never stored whole.
//
// Exact path (min(N, V) <= exact_spectrum_max_side, or exact_spectrum forced): every eigenvalue
// of the Gram matrix of G's smaller side, in float64, by LAPACK dsyevd (op::sym_eigenvalues_):
//   N <= V:  G G^T [N, N] = sum over column blocks G[:, v0:v1] G[:, v0:v1]^T. A column block of
//            the softmax gradient needs only its own logits once each row's logsumexp is known
//            (SoftmaxGradSource records it during the metrics pass and rebuilds the block with
//            the cross-entropy backward; head_internal.h, head_bottleneck.cpp); an explicit G is
//            sliced. Ignored rows are zero rows: zero eigenvalues, no effect on any sum.
//   N > V:   G^T G [V, V] = sum over row chunks G_c^T G_c, from the same chunks as the pass.
// Either way the cost is N V min(N, V) flops (dsyrk fills one triangle; on CUDA a full gemm, twice
// that; the two sides cost the same, the smaller Gram is the one that fits), plus ~4/3 min(N, V)^3
// for dsyevd. Measured here (2 cores, float32 H [2048, 256], W [50257, 256], default budget):
// 7.5 s for the exact spectrum against 1.2 s for the metrics pass (12.7 s with a full gemm and
// an elementwise chain for the column blocks); about 3 s of it is dsyrk, 2 s the float64 copies. Blocks and chunks are widened to float64
// before the product, so every Gram entry is a float64 dot product of the exact entries of G as
// computed (float32 values widen exactly).
//
// Accuracy. The eigenvalues of the Gram are sigma_i^2. Forming it costs at most
// ||E||_2 <= ||E||_F <= K eps ||G||_F^2 (K = max(N, V), the inner dimension: each entry's error is
// within K eps |g_i| |g_j|), and dsyevd is backward stable (error ~ s eps ||Gram||_2, s the side),
// so every sigma_i^2 is accurate to about (N + V) eps ||G||_F^2 in absolute terms - what the
// component counts and the EYM tail (sums of sigma_i^2) need. As singular values they are
// relatively accurate only above ~sqrt(eps) sigma_max (the Gram squares the condition number):
// sigma_i has relative error ~ eps sigma_max^2 / sigma_i^2 (dgesdd on G itself would give
// ~eps sigma_max / sigma_i), so values below ~1e-8 sigma_max are not resolved. Eigenvalues under
// the bound (N + V) eps trace are indistinguishable from rounding and are reported as exact 0
// (negative ones are rounding too), which is what a rank-deficient G should show.
//
// Randomized path (beyond the threshold): subspace iteration (Halko, Martinsson & Tropp 2011)
// with Rayleigh-Ritz values at every pass. Omega_0 = orth(Gaussian [V, l]); pass t, one sweep
// over row chunks of G:
//   Y_c = G_c Omega_t,  C += Y_c^T Y_c (float64, [l, l]),  Z += G_c^T Y_c  (Z = G^T G Omega_t);
// the eigenvalues of C are the squared singular values of G Omega_t, i.e. the Ritz values of
// G^T G on span(Omega_t): each sigmahat_i <= sigma_i (interlacing). Then Omega_{t+1} = orth(Z).
// Pass t's subspace is span((G^T G)^t Omega_0), so q power iterations of HMT correspond to
// t = q + 1 here (HMT's B = Q^T G with Q = orth((G G^T)^q G Omega_0) has the singular values of
// G Omega for Omega = orth(G^T Q), whose span is (G^T G)^(q+1) Omega_0).
// Convergence: a Ritz value's error e_t = lambda - theta_t shrinks roughly geometrically, by
// rho ~ (sigma_{l+1} / sigma_i)^2 per pass, so with d_t = theta_t - theta_{t-1} the remaining
// error is e_t ~ d_t rho / (1 - rho), rho ~ d_t / d_{t-1} (Aitken's extrapolation). That is the
// value_error estimate (relative, on sigma); passes continue until it is below spectrum_rtol / 4
// for every top-k value (and was below spectrum_rtol one pass earlier, which guards against one
// lucky ratio), until every change is at rounding level, or up to max_power_iters + 2 passes. On
// a flat spectrum rho is close to 1: that is why l defaults to 2k + 10 columns (rho ~
// (sigma_2k / sigma_k)^2, not (sigma_{k+10} / sigma_k)^2) and why the number of passes adapts
// instead of being fixed. Measured on Gaussian G (a prototype of this loop against dgesdd, 3
// seeds each, stopping rule as here): N = 120, V = 300, k = 32: 6 passes at l = 74, largest
// error 8e-5; N = 300, V = 800, k = 10: 17-18 passes at l = 30 (28-32 at l = 20), 2e-4;
// N = 500, V = 1500, k = 64: 14 passes at l = 138, 1.7e-4. The estimate was within 10 % of the
// true error in every case at the stop (below it by up to 5 %, hence the factor 4 of margin).
// The residual ||G - G P||_F / ||G||_F = sqrt(||G||_F^2 - trace C) / ||G||_F of the final
// subspace comes for free (||G||_F^2 from the pass); head_bottleneck.h says what it bounds.
//
// Across ranks (HeadMetricsOptions::comm, rows split over the ranks) both paths keep their
// arithmetic and add sums: G^T G and the randomized C and Z are sums over rows, all-reduced;
// G G^T pairs rows of different ranks, so there every rank forms a share of the column blocks
// from a source of all the rows (GradSource::all_rows). Whatever decides the control flow (the
// eigenvalues, Omega, the stopping rule's input) comes from rank 0, so no rank can take another
// branch and leave the others waiting.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <memory>

#include "analysis/head_internal.h"
#include "analysis/head_shards.h"
#include "tensor/ops.h"

namespace gs::analysis::detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

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
    s.eym_bound_2d = total > 0 ? std::sqrt(tail / total) : nan;
  } else if (k >= m) {
    double head = 0;
    for (int64_t i = 0; i < m; ++i) head += values[i] * values[i];
    s.eym_bound_2d = std::sqrt(std::max(0.0, g_sq - head) / g_sq);
  } else {
    s.eym_bound_2d = nan;
  }
}

// ---- exact: the Gram matrix ---------------------------------------------------------------------

// N: the rows of G (every rank's); ranks: the communicator when the rows are split over several
// ranks (see "Across ranks" in head_bottleneck.h), else null.
SpectrumMetrics exact_spectrum(const GradSource& src, double g_sq, int64_t dim, const HeadMetricsOptions& opts,
                               int64_t chunk, int64_t rank_cap, int64_t N, comm::Communicator* ranks) {
  const int64_t V = src.vocab(), side = std::min(N, V);
  const double gram_bytes = static_cast<double>(side) * static_cast<double>(side) * 8.0;
  if (side > opts.exact_spectrum_max_side && gram_bytes > static_cast<double>(opts.memory_budget_bytes))
    fail("head_metrics", "exact_spectrum needs ", static_cast<int64_t>(gram_bytes / (1 << 20)),
         " MiB for the float64 Gram matrix [", side, ", ", side, "] of G [", N, ", ", V,
         "], over memory_budget_bytes (", opts.memory_budget_bytes >> 20,
         " MiB): use the randomized spectrum (exact_spectrum = false) or raise the budget");
  const int64_t dsize = static_cast<int64_t>(dtype_size(src.dtype()));
  // Half the budget for the blocks: the source may still hold its c x V chunk buffer from the
  // metrics pass (the other half). The Gram itself is outside the budget (documented).
  const double half = static_cast<double>(std::max<int64_t>(opts.memory_budget_bytes, 2)) / 2.0;
  Tensor gram = zeros({side, side}, kFloat64, src.device());
  if (N <= V) {
    // Across ranks each G G^T entry pairs rows that may sit on different ranks: every rank takes
    // a source of all the rows and forms every R-th column block; the partial Grams are summed.
    std::unique_ptr<GradSource> everyone;
    if (ranks) everyone = src.all_rows(*ranks, chunk);
    const GradSource& rows = ranks ? *everyone : src;
    rows.prepare_columns(chunk);
    // Per column of a block: columns() holds two [N, b + 1] buffers (logits and gradient) at its
    // peak, then the block and its float64 copy coexist (float64: the copy syrk_ makes of the
    // strided block).
    const double per_col = static_cast<double>(N) * static_cast<double>(std::max(2 * dsize, dsize + 8));
    const int64_t b = std::clamp<int64_t>(static_cast<int64_t>(half / per_col), 1, std::max<int64_t>(V, 1));
    int64_t block = 0;
    for (int64_t v0 = 0; v0 < V; v0 += b, ++block) {
      if (ranks && block % ranks->size() != ranks->rank()) continue;  // another rank's block
      const Tensor blk = op::to(rows.columns(v0, std::min(V, v0 + b)), kFloat64);
      op::syrk_(gram, blk, false);
    }
  } else {
    // Rows per chunk: the pass's chunk, fewer for float32 so that the float64 copy fits in half.
    const int64_t rows = dsize == 8 ? chunk
                                    : std::clamp<int64_t>(static_cast<int64_t>(half / (8.0 * static_cast<double>(V))),
                                                          1, std::max<int64_t>(chunk, 1));
    // this rank's rows (all of them in one process): G^T G is a sum over rows
    const int64_t mine = src.rows();
    for (int64_t i0 = 0; i0 < mine; i0 += rows) {
      const Tensor g = op::to(src.chunk(i0, std::min(mine, i0 + rows), nullptr), kFloat64);
      op::syrk_(gram, g, true);
    }
  }
  std::vector<double> lambda;
  if (ranks) {
    // syrk_ fills one triangle, the same one on every rank: the sum keeps it. One rank decomposes
    // the sum and sends the values, so that every rank reports the same ones.
    sum_in_place(*ranks, gram);
    if (ranks->is_root()) lambda = op::sym_eigenvalues_(gram);
    lambda.resize(static_cast<size_t>(side));
    from_root(*ranks, lambda);
  } else {
    lambda = op::sym_eigenvalues_(gram);  // descending
  }
  gram = Tensor();
  double trace = 0;
  for (double x : lambda) trace += std::max(x, 0.0);
  const double zero_below = static_cast<double>(N + V) * DBL_EPSILON * trace;
  std::vector<double> values(lambda.size());
  for (size_t i = 0; i < lambda.size(); ++i) values[i] = lambda[i] > zero_below ? std::sqrt(lambda[i]) : 0.0;

  SpectrumMetrics s;
  s.exact = true;
  s.residual = 0;     // nothing is missing: the "subspace" is all of G's row space
  s.value_error = 0;  // rounding only (see the top of this file)
  s.columns = side;
  s.passes = 1;
  const int64_t k = opts.topk > 0 ? std::min(opts.topk, side) : side;
  summarise(s, values, k, g_sq, dim, rank_cap, true);
  return s;
}

// ---- randomized: subspace iteration with Ritz values at every pass -----------------------------

// The convergence of the top-k Ritz values between passes (see the top of this file).
struct Convergence {
  std::vector<double> prev, dprev;  // theta and its change at the previous pass
  double noise_rel = 0;             // relative to theta_1: changes below this are rounding

  struct Result {
    double rel = kInf;      // largest estimated relative error sigma / sigmahat - 1 over the top k
    bool at_rounding = false;  // every top-k change is at rounding level: more passes cannot help
  };

  Result update(const std::vector<double>& theta, int64_t k) {
    Result r;
    const size_t kk = std::min({static_cast<size_t>(std::max<int64_t>(k, 0)), theta.size(), prev.size()});
    std::vector<double> d(kk);
    if (!prev.empty() && !theta.empty()) {
      const double noise = noise_rel * theta[0];
      r.rel = 0;
      r.at_rounding = true;
      for (size_t j = 0; j < kk; ++j) {
        d[j] = theta[j] - prev[j];
        double e;
        if (std::fabs(d[j]) <= noise) {
          e = noise;  // converged as far as rounding lets us see
        } else {
          r.at_rounding = false;
          if (d[j] < 0 || j >= dprev.size() || dprev[j] <= 0 || d[j] >= dprev[j]) {
            e = kInf;  // not (yet) decreasing geometrically
          } else {
            const double ratio = d[j] / dprev[j];
            e = d[j] * ratio / (1 - ratio);
          }
        }
        // a value that is zero to rounding (G Omega of lower rank) has no relative error to speak of
        const double rel = theta[j] <= noise ? 0.0 : std::sqrt(1 + e / theta[j]) - 1;
        r.rel = std::max(r.rel, rel);
      }
      // values not compared yet (the subspace grew, which it does not) cannot be at rounding
      if (kk < std::min(static_cast<size_t>(std::max<int64_t>(k, 0)), theta.size())) r.at_rounding = false;
    }
    dprev = std::move(d);
    prev = theta;
    return r;
  }
};

// N and ranks as for exact_spectrum. Across ranks every pass sums C and Z over the ranks; rank 0
// computes the Ritz values and Omega and sends them on, so that every rank sees the same values,
// takes the same stopping decision and makes the same number of passes.
SpectrumMetrics randomized_spectrum(const GradSource& src, double g_sq, int64_t dim, const HeadMetricsOptions& opts,
                                    int64_t chunk, int64_t rank_cap, int64_t N, comm::Communicator* ranks) {
  const int64_t V = src.vocab(), kmax = std::min(N, V), mine = src.rows();
  const int64_t k = std::min(opts.topk, kmax);
  const int64_t p = opts.oversample < 0 ? k + 10 : opts.oversample;
  const int64_t l0 = std::min(k + p, kmax);
  const DType dt = src.dtype();
  const Device dev = src.device();
  const int t_min = std::max(opts.power_iters, 0) + 1;
  const int t_max = std::max(t_min, std::max(opts.max_power_iters, 0) + 1);
  // Rounding of the products in the compute dtype: a few units of sqrt(V) eps relative to the
  // largest value (the inner dimension of G_c Omega is V; the errors add like a random walk).
  Convergence conv;
  conv.noise_rel = std::sqrt(static_cast<double>(V)) * (dt == kFloat32 ? FLT_EPSILON : DBL_EPSILON);

  Generator gen(opts.seed);
  Tensor omega;
  if (!ranks || ranks->is_root()) omega = op::orthonormal_basis(op::to(randn({V, l0}, gen, dt), dev)).Q;
  if (ranks) omega = from_root(*ranks, omega, dt, dev);
  std::vector<double> theta;
  Convergence::Result est, prev_est;
  int passes = 0;
  for (int t = 0; t <= t_max && omega.shape()[1] > 0; ++t) {
    const int64_t l = omega.shape()[1];
    const bool last = t == t_max;
    Tensor Z = last ? Tensor() : zeros({V, l}, dt, dev);
    Tensor C = zeros({l, l}, kFloat64, dev);
    for (int64_t i0 = 0; i0 < mine; i0 += chunk) {
      const Tensor G = src.chunk(i0, std::min(mine, i0 + chunk), nullptr);
      const Tensor Y = op::matmul(G, omega);  // [c, l]
      op::syrk_(C, op::to(Y, kFloat64), true);
      if (!last) op::addmm_(Z, G, Y, true, false);
    }
    if (ranks) {
      sum_in_place(*ranks, C);
      if (!last) sum_in_place(*ranks, Z);
      theta.clear();
      if (ranks->is_root()) theta = op::sym_eigenvalues_(C);
      theta.resize(static_cast<size_t>(l));
      from_root(*ranks, theta);
    } else {
      theta = op::sym_eigenvalues_(C);
    }
    for (double& x : theta) x = std::max(x, 0.0);
    passes = t + 1;
    prev_est = est;
    est = conv.update(theta, k);
    const bool converged = (est.rel <= opts.spectrum_rtol / 4 && prev_est.rel <= opts.spectrum_rtol) || est.at_rounding;
    if (last || (t >= t_min && converged)) break;
    omega = Tensor();  // free before the factorization's float64 copy
    if (!ranks || ranks->is_root()) omega = op::orthonormal_basis(Z).Q;
    if (ranks) omega = from_root(*ranks, omega, dt, dev);
  }

  SpectrumMetrics s;
  std::vector<double> values(theta.size());
  double captured = 0;  // ||G Omega||_F^2 = trace C
  for (size_t i = 0; i < theta.size(); ++i) {
    values[i] = std::sqrt(theta[i]);
    captured += theta[i];
  }
  s.exact = false;
  s.residual = g_sq > 0 ? std::sqrt(std::max(0.0, g_sq - captured) / g_sq) : 0.0;
  s.value_error = est.rel;
  s.columns = static_cast<int64_t>(theta.size());
  s.passes = passes;
  summarise(s, values, std::min<int64_t>(k, static_cast<int64_t>(values.size())), g_sq, dim, rank_cap, false);
  return s;
}

}  // namespace

SpectrumMetrics spectrum(const GradSource& src, double g_sq, int64_t dim, const HeadMetricsOptions& opts,
                         int64_t chunk) {
  // across ranks: the sizes of all the rows, which every rank then agrees on
  comm::Communicator* ranks = opts.comm && opts.comm->size() > 1 ? opts.comm : nullptr;
  int64_t N = src.rows(), valid = src.valid_count();
  if (ranks) {
    std::vector<int64_t> n = {N, valid};
    sum_over(*ranks, n);
    N = n[0], valid = n[1];
  }
  const int64_t V = src.vocab();
  // G's rank is at most the number of nonzero rows, and V - 1 for softmax rows (they sum to 0);
  // min(valid rows, V) is the cap used for "every component".
  const int64_t rank_cap = std::min(valid, V);
  const int64_t side = std::min(N, V);
  if (side == 0) return SpectrumMetrics{};
  if (opts.exact_spectrum || side <= opts.exact_spectrum_max_side)
    return exact_spectrum(src, g_sq, dim, opts, chunk, rank_cap, N, ranks);
  if (opts.topk <= 0) return SpectrumMetrics{};
  return randomized_spectrum(src, g_sq, dim, opts, chunk, rank_cap, N, ranks);
}

}  // namespace gs::analysis::detail
