// analysis/head_bottleneck: the update decomposition and the Eckart-Young-Mirsky bound against a
// real SGD step taken through the autograd engine, float64 throughout: the library reports U only
// through norms and a cosine, so a wrong U could hide behind its own formula typed twice.
//
// Convention (G's scale). head_metrics' G is (softmax(H W^T) - onehot) / N_valid with ignored rows
// zero (head_bottleneck.h; SoftmaxGradSource), which is exactly dL/dZ of the MEAN cross-entropy
// L = cross_entropy(Z, y) (autograd/ops/loss.cpp divides by n_valid, ignore_index -100 in both).
// So the real gradients are gH = dL/dH = G W and gW = dL/dW = G^T H with no extra factor, and the
// SGD step H -= eta gH, W -= eta gW moves the logits by exactly
//   Z(eta) - Z = -eta (gH W^T + H gW^T) + eta^2 gH gW^T = -eta U + eta^2 gH gW^T,
// U = G W W^T + H H^T G: D(eta) = (Z(eta) - Z) / (-eta) = U - eta gH gW^T, first order in eta with
// a second-order term of norm eta ||gH gW^T|| <= eta ||gH|| ||gW||. (A summed loss would scale
// G, gH, gW by N_valid and U by N_valid: the cosine would not change, the term norms would.)
// The library reports only norms and a cosine of U, so the tests compare those with the same
// numbers computed from D(eta) (one joint step, and one-sided steps: stepping only H moves the
// logits by exactly -eta gH W^T, the backbone term; only W by -eta H gW^T, the head term), and
// with the exact first-order term recovered from two steps (D is affine in eta, so
// (eta2 D(eta1) - eta1 D(eta2)) / (eta2 - eta1) = U up to rounding).
//
// Convention (ignored rows). The real step moves every row of Z: an ignored row i has gH_i = 0
// but its logits still change, by -eta h_i gW^T (exactly linear: no second-order term). The loss
// never reads those rows and G is zero there, so the step's effect on the loss, <G, D(eta)>, and
// any comparison of the update with G live on the valid rows: U is the real step's logit change
// restricted to the rows the loss reads. That is what head_metrics computes (head_pass.cpp masks
// the outer H of H H^T G to valid rows; H^T G needs no mask since G's ignored rows are 0), and
// what these tests assert; they also show that the unrestricted change is measurably different on
// the same batch, so the match is not vacuous.
//
// Tolerances. A finite-difference logit change carries rounding: each entry of Z = H W^T (D terms)
// is within about D u sum_k |h_ik| |w_jk| of exact (u = eps / 2), the perturbed H, W add 2 u per
// term, the subtraction Z(eta) - Z one more: in all below (D + 2) eps Zabs per entry, Zabs = max
// entry of |H| |W|^T. fd_rounding takes 32 times that, times sqrt(N V) for the Frobenius norm,
// divided by eta: a bound on ||D(eta)_computed - D(eta)||_F, several times the worst case and
// orders above the typical error. Library quantities against the same quantity written from the
// engine's gradients: 1e-10 relative, as in test_analysis_head.cpp (sums of a few hundred float64
// terms, all rounding ~1e-14); U and gH gW^T formed from the gradients carry ~eps ||U|| per
// entry, covered by 1e-13 ||U||. The EYM bound comes from the Gram matrix's eigenvalues (error
// <= (N + V) eps ||G||^2 per sigma_i^2, head_spectrum.cpp, test_analysis_spectrum.cpp): with at
// most 4 tail values here, eym^2 is off by <= 4 * 32 eps = 2.8e-14 and eym by <= 1.4e-11 for
// eym >= 1e-3 (asserted; the batches here give 0.07 to 0.25), so 1e-10 serves both as the
// tolerance of the equalities and as the slack of the inequalities (whose two sides differ by
// far more on these batches: the SGD step leaves ~0.8 of ||G||, the bound ~0.2).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <vector>

#include "analysis/head_bottleneck.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/ops/linalg.h"
#include "autograd/ops/loss.h"
#include "autograd/ops/shape.h"
#include "autograd/variable.h"
#include "tensor/lapack.h"
#include "tensor/ops.h"

using namespace gs;
using namespace gs::analysis;

namespace {

constexpr int64_t kIgnore = -100;  // cross_entropy's and HeadMetricsOptions' default ignore_index

Tensor rnd(const Shape& s, uint64_t seed, double std = 1.0) {
  Generator g(seed);
  return randn(s, g, kFloat64, 0.0, std);
}

// Uniform targets, then the listed rows set to kIgnore (the other rows do not depend on the list).
Tensor make_targets(int64_t N, int64_t V, uint64_t seed, const std::vector<int64_t>& ignored) {
  Generator g(seed);
  std::vector<int64_t> t(static_cast<size_t>(N));
  for (auto& v : t) v = g.randint(V);
  for (int64_t i : ignored) t[static_cast<size_t>(i)] = kIgnore;
  return from_vector(t, {N});
}

double fro(const Tensor& x) {
  double s = 0;
  for (double v : x.to_vector<double>()) s += v * v;
  return std::sqrt(s);
}

double dot(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  REQUIRE(x.size() == y.size());
  double s = 0;
  for (size_t k = 0; k < x.size(); ++k) s += x[k] * y[k];
  return s;
}

double cosine(const Tensor& a, const Tensor& b) { return dot(a, b) / (fro(a) * fro(b)); }

double max_abs(const Tensor& x) {
  double m = 0;
  for (double v : x.to_vector<double>()) m = std::max(m, std::fabs(v));
  return m;
}

double rel(double a, double b) { return std::fabs(a - b) / std::max(std::fabs(b), 1e-300); }

// min over c of ||G - c X||_F / ||G||_F: c* = <G, X> / ||X||^2, residual written out (not via
// sqrt(1 - cos^2), so that it checks the closed form as well).
double best_scaled_residual(const Tensor& G, const Tensor& X) {
  const double c = dot(G, X) / dot(X, X);
  return fro(op::sub(G, op::mul(X, c))) / fro(G);
}

// One batch and the real gradients of the mean cross-entropy of Z = H W^T, from the engine.
struct Step {
  Tensor H, W, y;     // the batch: plain float64 tensors, no graph
  Tensor G, gH, gW;   // dL/dZ [N, V], dL/dH [N, D], dL/dW [V, D]
  Tensor keep;        // [N, 1]: 1 for rows whose target is not ignored, else 0
  int64_t n_valid = 0;
};

Step real_step(int64_t N, int64_t V, int64_t D, uint64_t seed, const std::vector<int64_t>& ignored) {
  Step s;
  s.H = rnd({N, D}, seed);
  s.W = rnd({V, D}, seed + 1);
  s.y = make_targets(N, V, seed + 2, ignored);
  const Tensor H = requires_grad(op::clone(s.H)), W = requires_grad(op::clone(s.W));
  const Tensor Z = gs::matmul(H, gs::transpose(W, 0, 1));
  const Tensor L = gs::cross_entropy(Z, s.y);  // ignore_index -100, reduction "mean"
  const std::vector<Tensor> g = gs::grad({L}, {Z, H, W});
  REQUIRE(g.size() == 3);
  s.G = op::contiguous(g[0]);
  s.gH = op::contiguous(g[1]);
  s.gW = op::contiguous(g[2]);
  std::vector<double> keep(static_cast<size_t>(N), 1.0);
  for (int64_t i : ignored) keep[static_cast<size_t>(i)] = 0.0;
  s.n_valid = N - static_cast<int64_t>(ignored.size());
  s.keep = from_vector(keep, {N, 1});
  return s;
}

// X with the rows of ignored targets set to 0.
Tensor masked(const Step& s, const Tensor& X) { return op::mul(X, s.keep); }

// (Z(eta) - Z) / (-eta) for the real step H -= eta gH (if step_H) and W -= eta gW (if step_W),
// every row (ignored ones included).
Tensor logit_change(const Step& s, double eta, bool step_H, bool step_W) {
  const Tensor He = step_H ? op::sub(s.H, op::mul(s.gH, eta)) : s.H;
  const Tensor We = step_W ? op::sub(s.W, op::mul(s.gW, eta)) : s.W;
  const std::vector<double> z0 = op::matmul(s.H, s.W, false, true).to_vector<double>();
  const std::vector<double> ze = op::matmul(He, We, false, true).to_vector<double>();
  std::vector<double> d(z0.size());
  for (size_t k = 0; k < d.size(); ++k) d[k] = (ze[k] - z0[k]) / -eta;
  return from_vector(d, {s.H.shape()[0], s.W.shape()[0]});
}

// Bound on the rounding of logit_change in the Frobenius norm (see the top of the file).
double fd_rounding(const Step& s, double eta) {
  const int64_t N = s.H.shape()[0], V = s.W.shape()[0], D = s.H.shape()[1];
  const double zabs = max_abs(op::matmul(op::abs(s.H), op::abs(s.W), false, true));
  return 32.0 * static_cast<double>(D + 2) * DBL_EPSILON * zabs * std::sqrt(static_cast<double>(N * V)) / eta;
}

// U of the real step: its first-order logit change gH W^T + H gW^T on the rows the loss reads.
Tensor real_update(const Step& s) {
  return masked(s, op::add(op::matmul(s.gH, s.W, false, true), op::matmul(s.H, s.gW, false, true)));
}

// The engine's gradients are the library's G and the products the decomposition is written with.
void check_gradient_convention(const Step& s) {
  const Tensor G_lib = logit_grad(s.H, s.W, s.y);  // what head_metrics recomputes chunk by chunk
  // Same formula in float64 on both sides (exp(z - lse) vs the fused kernel): entries agree to a
  // few ulps of the logits; 1e-12 of max |G| is far below a wrong scale (sum vs mean: a factor
  // N_valid; N vs N_valid with 3 of 12 rows ignored: 33 %).
  CHECK(max_abs(op::sub(s.G, G_lib)) <= 1e-12 * max_abs(G_lib));
  // the matmul vjps are these products (inner dimension V or N: ~20 eps of the absolute sums)
  CHECK(max_abs(op::sub(s.gH, op::matmul(s.G, s.W))) <= 1e-12 * max_abs(s.gH));
  CHECK(max_abs(op::sub(s.gW, op::matmul(s.G, s.H, true, false))) <= 1e-12 * max_abs(s.gW));
  // ignored rows: zero rows of G, hence zero rows of the hidden gradient (exactly)
  const std::vector<double> keep = s.keep.to_vector<double>(), g = s.G.to_vector<double>(),
                            gh = s.gH.to_vector<double>();
  const size_t V = static_cast<size_t>(s.W.shape()[0]), D = static_cast<size_t>(s.H.shape()[1]);
  for (size_t i = 0; i < keep.size(); ++i) {
    if (keep[i] != 0.0) continue;
    INFO("ignored row " << i);
    for (size_t j = 0; j < V; ++j) CHECK(g[i * V + j] == 0.0);
    for (size_t k = 0; k < D; ++k) CHECK(gh[i * D + k] == 0.0);
  }
}

// The library's update numbers against real steps of sizes 1e-2, 1e-3, 1e-4 (rows the loss reads).
void check_against_real_step(const Step& s, const HeadMetrics& m) {
  const Tensor U = real_update(s);
  const Tensor P2 = masked(s, op::matmul(s.gH, s.gW, false, true));  // the second-order term gH gW^T
  const double Un = fro(U), p2 = fro(P2);
  const double ur = 1e-13 * Un;  // rounding of U and P2 themselves
  REQUIRE(Un > 0);
  REQUIRE(p2 > 0);

  // The limit eta -> 0: the library's numbers are those of the real step's first-order term.
  CHECK(m.tokens == s.n_valid);
  CHECK(rel(m.logit_grad_norm, fro(s.G)) < 1e-10);
  CHECK(rel(m.hidden_grad_norm, fro(s.gH)) < 1e-10);  // ||G W|| = ||dL/dH||
  CHECK(rel(m.update.cosine, cosine(U, s.G)) < 1e-10);
  CHECK(rel(m.update.backbone_term_norm, fro(op::matmul(s.gH, s.W, false, true))) < 1e-10);
  CHECK(rel(m.update.head_term_norm, fro(masked(s, op::matmul(s.H, s.gW, false, true)))) < 1e-10);

  const std::vector<double> etas = {1e-2, 1e-3, 1e-4};
  std::vector<double> err;
  for (double eta : etas) {
    INFO("eta " << eta);
    const double r = fd_rounding(s, eta);
    const Tensor Dj = masked(s, logit_change(s, eta, true, true));
    const double e = fro(op::sub(Dj, U));
    // D(eta) - U = -eta gH gW^T exactly: the error is the second-order term and nothing else,
    // bounded by eta ||gH|| ||gW||
    CHECK(std::fabs(e - eta * p2) <= r + ur);
    CHECK(e <= eta * fro(s.gH) * fro(s.gW) + r + ur);
    // the cosine from the real step converges to the library's at first order:
    // |cos(a, G) - cos(b, G)| <= ||a/|a| - b/|b||| <= 2 ||a - b|| / ||b||
    CHECK(std::fabs(cosine(Dj, s.G) - m.update.cosine) <= 2.0 * (eta * p2 + r + ur) / Un + 1e-10);
    // one-sided steps are exactly linear in eta: their changes are the two terms themselves
    const Tensor DH = masked(s, logit_change(s, eta, true, false));
    const Tensor DW = masked(s, logit_change(s, eta, false, true));
    CHECK(std::fabs(fro(DH) - m.update.backbone_term_norm) <= r + 1e-10 * m.update.backbone_term_norm);
    CHECK(std::fabs(fro(DW) - m.update.head_term_norm) <= r + 1e-10 * m.update.head_term_norm);
    err.push_back(e);
  }
  // the second-order term is resolved at every eta (else the linear decay below says nothing)
  REQUIRE(err[2] > 100.0 * fd_rounding(s, etas[2]));
  for (size_t i = 0; i + 1 < err.size(); ++i) {
    INFO("eta " << etas[i] << " against " << etas[i + 1]);
    CHECK(err[i] / err[i + 1] == Approx(10.0).epsilon(1e-2));  // first order: 10x smaller per decade
    CHECK(std::fabs(err[i] - 10.0 * err[i + 1]) <=
          fd_rounding(s, etas[i]) + 10.0 * fd_rounding(s, etas[i + 1]) + 11.0 * ur);
  }

  // The exact first-order term from two real steps (D is affine in eta), against the library's
  // cosine at the rounding level instead of O(eta).
  const double e1 = 1e-3, e2 = 1e-2;
  const Tensor D1 = masked(s, logit_change(s, e1, true, true)), D2 = masked(s, logit_change(s, e2, true, true));
  const Tensor Ur = op::mul(op::sub(op::mul(D1, e2), op::mul(D2, e1)), 1.0 / (e2 - e1));
  const double rr = (e2 * fd_rounding(s, e1) + e1 * fd_rounding(s, e2)) / (e2 - e1) + 1e-13 * Un;
  REQUIRE(e1 * p2 > 1e3 * rr);  // the extrapolation removes something much larger than its error
  CHECK(fro(op::sub(Ur, U)) <= rr);
  CHECK(std::fabs(cosine(Ur, s.G) - m.update.cosine) <= 2.0 * rr / Un + 1e-10);
}

}  // namespace

TEST_CASE("update decomposition: a real SGD step on H and W moves the logits by -eta U to first order",
          "[analysis][update]") {
  const int64_t N = 12, V = 20, D = 4;
  const Step s = real_step(N, V, D, 501, {});
  check_gradient_convention(s);
  const HeadMetrics m = head_metrics(s.H, s.W, s.y);
  REQUIRE(m.dim == D);
  CHECK(m.update.rank_bound == 2 * D);
  check_against_real_step(s, m);
}

TEST_CASE("update decomposition: with ignored targets the real step matches U on the rows the loss reads",
          "[analysis][update]") {
  // Rows 2, 6, 10 ignored: 9 valid of 12. See the top of the file for the convention.
  const int64_t N = 12, V = 20, D = 4;
  const std::vector<int64_t> ignored = {2, 6, 10};
  REQUIRE(HeadMetricsOptions{}.ignore_index == kIgnore);
  const Step s = real_step(N, V, D, 511, ignored);
  REQUIRE(s.n_valid == 9);
  check_gradient_convention(s);
  const HeadMetrics m = head_metrics(s.H, s.W, s.y);
  check_against_real_step(s, m);

  // The unrestricted change differs on this batch, so matching the restricted one means something:
  // the ignored rows' logits move by -eta h_i gW^T (the W-only step, exactly linear), which the
  // head term would include under the other convention.
  const double eta = 1e-3, r = fd_rounding(s, eta);
  const Tensor DW_all = logit_change(s, eta, false, true);
  const Tensor DW_ignored = op::sub(DW_all, masked(s, DW_all));
  CHECK(fro(DW_ignored) > 0.1 * m.update.head_term_norm);
  CHECK(std::fabs(fro(DW_all) - m.update.head_term_norm) > 1e3 * r);
  // Pythagoras over disjoint rows: the library's head term is exactly the valid rows' part
  // (a and b are each within r of exact, b <= a: a^2 and b^2 within 2 a r + r^2 each)
  const double h = m.update.head_term_norm, a = fro(DW_all), b = fro(DW_ignored);
  CHECK(std::fabs(h * h + b * b - a * a) <= 4.0 * a * r + 2.0 * r * r + 1e-10 * a * a);
  // and the cosine under the other convention would be smaller by ||U|| / ||U_all|| (G is 0 on the
  // ignored rows, so <U_all, G> = <U, G>): distinguishable from the library's value
  const Tensor U = real_update(s);
  const Tensor U_all = op::add(op::matmul(s.gH, s.W, false, true), op::matmul(s.H, s.gW, false, true));
  const double cos_all = cosine(U_all, s.G);
  CHECK(rel(cos_all, m.update.cosine * fro(U) / fro(U_all)) < 1e-10);
  CHECK(std::fabs(cos_all - m.update.cosine) > 1e-4);
}

TEST_CASE("EYM bound: no realisable update beats eym_bound_2d and the best rank-2D matrix attains it",
          "[analysis][spectrum][update]") {
  // Every update a step on (H, W) can make to first order, X = dH W^T + H dW^T (on the rows the
  // loss reads: M dH W^T + (M H) dW^T), has rank <= 2D, so min_c ||G - c X|| / ||G|| >= the EYM
  // bound sqrt(sum_{i > 2D} sigma_i^2) / ||G||, with equality for the best rank-2D matrix of G.
  const int64_t N = 12, V = 20, D = 4;
  for (const std::vector<int64_t>& ignored : {std::vector<int64_t>{}, std::vector<int64_t>{2, 6, 10}}) {
    INFO(ignored.size() << " ignored rows");
    const Step s = real_step(N, V, D, 521, ignored);
    HeadMetricsOptions o;
    o.exact_spectrum = true;  // with topk = 0: every value, from the Gram matrix
    const HeadMetrics m = head_metrics(s.H, s.W, s.y, o);
    REQUIRE(m.spectrum.exact);
    REQUIRE(2 * D < std::min(s.n_valid, V));  // the tail-sum branch, not the rank cap (next test)
    const double eym = m.spectrum.eym_bound_2d;
    REQUIRE(std::isfinite(eym));
    REQUIRE(eym > 1e-3);  // a real bound, large next to the Gram path's error on it (top of file)
    const double Gn = fro(s.G);

    // (a) the tail of an independent full SVD of G (dgesdd on G, not the Gram matrix)
    const std::vector<double> sv = op::svd_values(s.G);
    const size_t m2 = static_cast<size_t>(2 * D);
    double tot = 0, tail = 0;
    for (size_t i = 0; i < sv.size(); ++i) {
      tot += sv[i] * sv[i];
      if (i >= m2) tail += sv[i] * sv[i];
    }
    CHECK(std::fabs(eym - std::sqrt(tail / tot)) <= 1e-10);

    // (b) the best rank-2D matrix itself: the top-2D left singular vectors span Q, which
    // orthonormal_basis returns when its tolerance sits between sigma_2D and sigma_2D+1 (it keeps
    // Q1 U[:, :r] from the SVD of R, ops_cpu/linalg_lapack.h), and Q Q^T G attains the bound.
    REQUIRE(sv[m2 - 1] > sv[m2] * (1 + 1e-6));
    const op::OrthonormalBasis top = op::orthonormal_basis(s.G, std::sqrt(sv[m2 - 1] * sv[m2]) / sv[0]);
    REQUIRE(top.rank == 2 * D);
    const Tensor G2 = op::matmul(top.Q, op::matmul(top.Q, s.G, true, false));
    CHECK(std::fabs(fro(op::sub(s.G, G2)) / Gn - eym) <= 1e-10);

    // (c) the real SGD update: its best scaling leaves at least the bound; the closed form
    // sqrt(1 - cos^2) from the library's cosine is the same number
    const Tensor U = real_update(s);
    const double res_sgd = best_scaled_residual(s.G, U);
    const double cos_lib = m.update.cosine;
    CHECK(res_sgd >= eym - 1e-10);
    CHECK(std::fabs(res_sgd - std::sqrt(1 - cos_lib * cos_lib)) <= 1e-10);

    // (d) the best first-order update over every (dH, dW): X* = P_H G + (I - P_H) G P_W (P_H onto
    // col(M H), P_W onto col(W)), rank <= D + D, realisable since col(P_H) = col(M H) and
    // row(P_W) = col(W)^T; G - X* = (I - P_H) G (I - P_W). Between the bound and the SGD step.
    const Tensor QH = op::orthonormal_basis(masked(s, s.H)).Q;
    const Tensor QW = head_basis(s.W).Q;
    REQUIRE(QH.shape()[1] == D);
    REQUIRE(QW.shape()[1] == D);
    const Tensor PHG = op::matmul(QH, op::matmul(QH, s.G, true, false));
    const Tensor Xs = op::add(PHG, op::matmul(op::matmul(op::sub(s.G, PHG), QW), QW, false, true));
    const std::vector<double> xs = op::svd_values(Xs);
    CHECK(xs[m2] <= 1e-12 * xs[0]);  // rank <= 2D
    const double res_best = fro(op::sub(s.G, Xs)) / Gn;
    CHECK(res_best >= eym - 1e-10);
    CHECK(res_best <= res_sgd + 1e-12);  // both computed here in float64 from the same G

    // (e) random directions (dH, dW): each scaled update is in the same linear set
    for (uint64_t seed = 530; seed < 535; ++seed) {
      INFO("random step, seed " << seed);
      const Tensor X = masked(s, op::add(op::matmul(rnd({N, D}, seed), s.W, false, true),
                                         op::matmul(s.H, rnd({V, D}, seed + 100), false, true)));
      const double res = best_scaled_residual(s.G, X);
      CHECK(res >= res_best - 1e-12);
      CHECK(res >= eym - 1e-10);
    }
  }
}

TEST_CASE("EYM bound: 2D at or above the rank cap min(valid rows, V) gives exactly 0", "[analysis][spectrum]") {
  // head_spectrum.cpp: rank_cap = min(valid rows, V) and summarise() returns 0 when 2D >= rank_cap,
  // before its other branches. It is reached when the valid rows or V are at most 2D. The
  // randomized path with topk < 2D is where the branch decides the result: there the generic code
  // has fewer than 2D values and returns NaN, so 0 can only come from the cap. The exact path
  // gives 0 either way (the extra values are exact zeros), checked against dgesdd.
  auto with_spectrum = [](const Tensor& H, const Tensor& W, const Tensor& y, bool randomized) {
    HeadMetricsOptions o;
    if (randomized) {
      o.topk = 2;                     // < 2D in every case below
      o.exact_spectrum_max_side = 0;  // force the randomized path at this size
    } else {
      o.exact_spectrum = true;
    }
    const HeadMetrics m = head_metrics(H, W, y, o);
    REQUIRE(m.spectrum.exact == !randomized);
    return m;
  };

  SECTION("valid rows: N = 12, V = 20, D = 4 with 4 ignored rows, so rank_cap = 8 = 2D") {
    const int64_t N = 12, V = 20, D = 4;
    const Step s = real_step(N, V, D, 541, {0, 3, 5, 7});
    // equality on purpose: with '>' for '>=', or N = 12 for the valid rows, the cap would not apply
    // and the randomized value below would be NaN
    REQUIRE(s.n_valid == 2 * D);
    CHECK(with_spectrum(s.H, s.W, s.y, true).spectrum.eym_bound_2d == 0.0);
    CHECK(with_spectrum(s.H, s.W, s.y, false).spectrum.eym_bound_2d == 0.0);
    // 0 is the true value: G has 4 zero rows, so rank <= 8 = 2D ...
    const std::vector<double> sv = op::svd_values(s.G);
    double tail = 0;
    for (size_t i = static_cast<size_t>(2 * D); i < sv.size(); ++i) tail += sv[i] * sv[i];
    CHECK(std::sqrt(tail) <= 1e-13 * fro(s.G));
    // ... and a rank-2D matrix reproduces G: Q Q^T G, Q its column basis (rank at 1e-10 of sigma_1)
    const op::OrthonormalBasis b = op::orthonormal_basis(s.G, 1e-10);  // sigma_8 / sigma_1 ~ 0.15 here
    CHECK(b.rank <= 2 * D);
    CHECK(fro(op::sub(s.G, op::matmul(b.Q, op::matmul(b.Q, s.G, true, false)))) <= 1e-13 * fro(s.G));
  }
  SECTION("one more valid row (rank_cap = 9 > 2D): the cap does not apply") {
    const int64_t N = 12, V = 20, D = 4;
    const Step s = real_step(N, V, D, 541, {0, 3, 5});
    REQUIRE(s.n_valid == 2 * D + 1);
    // randomized, 2 values < 2D: no bound
    CHECK(std::isnan(with_spectrum(s.H, s.W, s.y, true).spectrum.eym_bound_2d));
    // exact: the true, positive tail sigma_9 / ||G||
    const std::vector<double> sv = op::svd_values(s.G);
    double tot = 0, tail = 0;
    for (size_t i = 0; i < sv.size(); ++i) {
      tot += sv[i] * sv[i];
      if (i >= static_cast<size_t>(2 * D)) tail += sv[i] * sv[i];
    }
    const double eym = with_spectrum(s.H, s.W, s.y, false).spectrum.eym_bound_2d;
    CHECK(eym > 1e-3);
    CHECK(std::fabs(eym - std::sqrt(tail / tot)) <= 1e-10);
  }
  SECTION("vocabulary: N = 12, V = 6, D = 3, so rank_cap = min(12, 6) = 6 = 2D") {
    const int64_t N = 12, V = 6, D = 3;
    const Step s = real_step(N, V, D, 551, {});
    CHECK(with_spectrum(s.H, s.W, s.y, true).spectrum.eym_bound_2d == 0.0);
    CHECK(with_spectrum(s.H, s.W, s.y, false).spectrum.eym_bound_2d == 0.0);
    const std::vector<double> sv = op::svd_values(s.G);  // min(N, V) = 6 values: nothing beyond 2D
    REQUIRE(sv.size() == static_cast<size_t>(2 * D));
  }
}
