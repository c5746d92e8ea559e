// Tour 2: the head bottleneck, small enough to follow by hand (float64 throughout).
//   part 1  one token through a V = 5, D = 2 head: W, col(W), g, its visible and destroyed parts,
//           and what reaches the hidden state
//   part 2  V grows at fixed D: the destroyed fraction of random heads against sqrt(1 - D/V)
//   part 3  a short SGD run on W and H: what training does to the destroyed fraction
// The basis and the split are the analysis layer's own (head_basis, split_logit_grad,
// head_metrics): the tour shows what those functions measure on real models.
#include "demos/tours/tour_head_bottleneck.h"

#include <cmath>
#include <cstdio>
#include <string>

#include "analysis/head_bottleneck.h"
#include "autograd/ops.h"
#include "tensor/ops.h"

namespace gs::tours {
namespace {

// Fixed-point text with negative zero printed as 0 (rounding noise must not change the output).
std::string num(double v, int decimals = 4) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}
std::string vec(const std::vector<double>& v, int decimals = 4) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + num(v[i], decimals);
  return s + "]";
}
void matrix(std::ostream& out, const std::string& name, const std::vector<double>& m, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    out << (r == 0 ? "  " + name + " = " : std::string(name.size() + 5, ' ')) << "[";
    for (int64_t c = 0; c < cols; ++c) {
      const std::string x = num(m[r * cols + c]);
      out << (c ? ", " : "") << std::string(x.size() < 7 ? 7 - x.size() : 0, ' ') << x;
    }
    out << "]\n";
  }
}
double norm(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}
// W^T v for W [V, D] row-major.
std::vector<double> wt_times(const std::vector<double>& W, int64_t V, int64_t D, const std::vector<double>& v) {
  std::vector<double> r(D, 0.0);
  for (int64_t i = 0; i < V; ++i)
    for (int64_t j = 0; j < D; ++j) r[j] += W[i * D + j] * v[i];
  return r;
}
std::vector<double> minus(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> r(a.size());
  for (size_t i = 0; i < a.size(); ++i) r[i] = a[i] - b[i];
  return r;
}
int check(std::ostream& out, const std::string& what, bool ok) {
  out << "  check: " << what << ": " << (ok ? "ok" : "FAILED") << "\n";
  return ok ? 0 : 1;
}

// Per-row squared destroyed fractions ||d_i||^2 / ||g_i||^2 of G [N, V] against a basis of col(W).
std::vector<double> row_fractions_sq(const Tensor& G, const analysis::HeadBasis& basis) {
  const auto split = analysis::split_logit_grad(G, basis);
  const auto g = G.to_vector<double>(), d = split.destroyed.to_vector<double>();
  const int64_t N = G.shape()[0], V = G.shape()[1];
  std::vector<double> f;
  for (int64_t i = 0; i < N; ++i) {
    double gg = 0, dd = 0;
    for (int64_t k = 0; k < V; ++k) {
      gg += g[i * V + k] * g[i * V + k];
      dd += d[i * V + k] * d[i * V + k];
    }
    if (gg > 0) f.push_back(dd / gg);
  }
  return f;
}

}  // namespace

std::vector<double> destroyed_fractions_sq(const Tensor& G, const Tensor& W) {
  return row_fractions_sq(G, analysis::head_basis(W));
}

TokenSplit explain_token(std::ostream& out, const Tensor& W, const Tensor& h, int64_t target) {
  TokenSplit s;
  s.V = W.shape()[0];
  s.D = W.shape()[1];
  s.W = W.to_vector<double>();
  s.h = h.to_vector<double>();
  const Tensor H = op::reshape(h, {1, s.D});
  s.logits = op::matmul(H, W, false, true).to_vector<double>();
  s.probs = op::softmax(op::matmul(H, W, false, true)).to_vector<double>();
  // [snippet split]
  s.g = analysis::logit_grad(H, W, from_vector(std::vector<int64_t>{target}, {1})).to_vector<double>();
  const analysis::HeadBasis basis = analysis::head_basis(W);  // Q [V, rank]: orthonormal basis of col(W)
  s.rank = basis.rank;
  s.Q = basis.Q.to_vector<double>();
  const auto split = analysis::split_logit_grad(op::reshape(from_vector(s.g, {s.V}), {1, s.V}), basis);
  s.visible = split.visible.to_vector<double>();      // g Q Q^T
  s.destroyed = split.destroyed.to_vector<double>();  // g - g Q Q^T
  // [end]
  s.g_norm = norm(s.g);
  s.visible_norm = norm(s.visible);
  s.destroyed_norm = norm(s.destroyed);
  s.hidden_grad = wt_times(s.W, s.V, s.D, s.g);
  s.hidden_from_visible = wt_times(s.W, s.V, s.D, s.visible);
  s.hidden_from_destroyed = wt_times(s.W, s.V, s.D, s.destroyed);

  out << "the head W [V = " << s.V << ", D = " << s.D << "]: row k is token k's output embedding\n";
  matrix(out, "W", s.W, s.V, s.D);
  out << "a hidden state h = " << vec(s.h) << ", the next token is " << target << "\n";
  out << "  logits z = W h          = " << vec(s.logits) << "\n";
  out << "  softmax(z)              = " << vec(s.probs) << "\n";
  out << "  g = softmax(z) - onehot = " << vec(s.g) << "   (dLoss/dz, V = " << s.V << " numbers)\n";
  out << "\ncol(W), the logit directions the head can express: an orthonormal basis Q [V, " << s.rank
      << "] (QR of W)\n";
  matrix(out, "Q", s.Q, s.V, s.rank);
  out << "split g along col(W):\n";
  out << "  visible   = Q Q^T g     = " << vec(s.visible) << "   norm " << num(s.visible_norm) << "\n";
  out << "  destroyed = g - visible = " << vec(s.destroyed) << "   norm " << num(s.destroyed_norm) << "\n";
  out << "  ||g|| = " << num(s.g_norm) << ";  visible^2 + destroyed^2 = " << num(s.visible_norm * s.visible_norm, 6)
      << " + " << num(s.destroyed_norm * s.destroyed_norm, 6) << " = "
      << num(s.visible_norm * s.visible_norm + s.destroyed_norm * s.destroyed_norm, 6) << " = ||g||^2 = "
      << num(s.g_norm * s.g_norm, 6) << "\n";
  // Two numbers, two names: the library's destroyed fraction is a ratio of norms; its square is
  // the share of ||g||^2, which is what adds up with the visible part's share to 1.
  out << "  destroyed fraction ||destroyed|| / ||g|| = " << num(s.destroyed_norm / s.g_norm) << "\n";
  out << "  destroyed energy share ||destroyed||^2 / ||g||^2 = "
      << num(s.destroyed_norm * s.destroyed_norm / (s.g_norm * s.g_norm)) << "   (the destroyed fraction squared)\n";
  out << "what reaches the hidden state (dLoss/dh = W^T g, D = " << s.D << " numbers):\n";
  out << "  W^T g         = " << vec(s.hidden_grad, 6) << "\n";
  out << "  W^T visible   = " << vec(s.hidden_from_visible, 6) << "   (the same: the visible part carries all of it)\n";
  out << "  W^T destroyed = " << vec(s.hidden_from_destroyed, 6) << "   (nothing: W^T maps it to zero)\n";
  return s;
}

HeadTourResult tour_head_bottleneck(std::ostream& out, const HeadTourOptions& o) {
  HeadTourResult r;
  out << "== 1. one token through a small head ==\n";
  const Tensor W = tensor({{1.0, 0.0}, {0.0, 1.0}, {-1.0, 0.5}, {0.5, -1.0}, {0.7, 0.7}}, kFloat64);
  const Tensor h = tensor({1.0, 0.5}, kFloat64);
  r.token = explain_token(out, W, h, 2);
  const TokenSplit& s = r.token;
  const double tol = 1e-12;
  double qq = 0;  // max |Q^T Q - I|
  for (int64_t a = 0; a < s.rank; ++a)
    for (int64_t b = 0; b < s.rank; ++b) {
      double dotp = 0;
      for (int64_t k = 0; k < s.V; ++k) dotp += s.Q[k * s.rank + a] * s.Q[k * s.rank + b];
      qq = std::max(qq, std::abs(dotp - (a == b)));
    }
  r.failures += check(out, "Q has orthonormal columns (|Q^T Q - I| < 1e-12)", qq < tol);
  const double pyth = s.visible_norm * s.visible_norm + s.destroyed_norm * s.destroyed_norm;
  r.failures += check(out, "visible^2 + destroyed^2 = ||g||^2 (to 1e-12 relative)",
                      std::abs(pyth - s.g_norm * s.g_norm) <= tol * s.g_norm * s.g_norm);
  r.failures += check(out, "W^T visible = W^T g (to 1e-12 relative)",
                      norm(minus(s.hidden_from_visible, s.hidden_grad)) <= tol * norm(s.W) * s.g_norm);
  r.failures += check(out, "W^T destroyed = 0 (to 1e-12 relative)",
                      norm(s.hidden_from_destroyed) <= tol * norm(s.W) * s.g_norm);
  out << "so the destroyed energy share, " << num(100 * s.destroyed_norm * s.destroyed_norm / (s.g_norm * s.g_norm), 1)
      << "% of ||g||^2 (destroyed fraction " << num(s.destroyed_norm / s.g_norm)
      << " of ||g||), never reaches h, whatever the backbone below it does.\n";

  out << "\n== 2. V grows at fixed D = " << o.D << " (random Gaussian heads, " << o.tokens
      << " tokens with random hidden states and targets) ==\n";
  out << "f = ||destroyed|| / ||g|| per token (the destroyed fraction; f^2 is the destroyed energy share).\n"
         "For an isotropic g, E[f^2] = 1 - D/V exactly (col(W) is a random D-dimensional subspace), so the\n"
         "rms of f, sqrt(mean f^2), is compared with sqrt(1 - D/V). Softmax - onehot rows are not isotropic\n"
         "(they sum to zero and lean on the target), so they are measured as they are.\n";
  out << "      V   sqrt(1-D/V)   softmax rows: rms f   mean f   isotropic rows: rms f\n";
  Generator gen(o.seed);
  int iso_bad = 0;
  for (int64_t V : o.grow_V) {
    GrowRow row;
    row.V = V;
    row.formula = V > o.D ? std::sqrt(1.0 - double(o.D) / double(V)) : 0.0;
    const Tensor Wr = randn({V, o.D}, gen, kFloat64);
    const Tensor Hr = randn({o.tokens, o.D}, gen, kFloat64);
    std::vector<int64_t> t(o.tokens);
    for (auto& x : t) x = gen.randint(V);
    const analysis::HeadBasis basis = analysis::head_basis(Wr);
    const auto fs = row_fractions_sq(analysis::logit_grad(Hr, Wr, from_vector(t, {o.tokens})), basis);
    double m2 = 0, m1 = 0;
    for (double f : fs) {
      m2 += f;
      m1 += std::sqrt(f);
    }
    row.softmax_rms = std::sqrt(m2 / double(fs.size()));
    row.softmax_mean = m1 / double(fs.size());
    const auto iso = row_fractions_sq(randn({o.tokens, V}, gen, kFloat64), basis);
    double i2 = 0;
    for (double f : iso) i2 += f;
    const double iso_mean_sq = i2 / double(iso.size());
    row.isotropic_rms = std::sqrt(iso_mean_sq);
    // f^2 of an isotropic row is Beta((V-D)/2, D/2): variance (1-D/V)(D/V) / (V/2 + 1)
    const double p = V > o.D ? double(o.D) / double(V) : 1.0;
    const double se = std::sqrt((1 - p) * p / (V / 2.0 + 1) / double(iso.size()));
    iso_bad += std::abs(iso_mean_sq - (1 - p)) > 5 * se + 1e-12;
    char line[160];
    std::snprintf(line, sizeof line, "  %5ld   %11.4f   %20.4f   %6.4f   %21.4f\n", static_cast<long>(V), row.formula,
                  row.softmax_rms, row.softmax_mean, row.isotropic_rms);
    out << line;
    r.grow.push_back(row);
  }
  r.failures += check(out, "isotropic rows: mean f^2 (energy share) within 5 standard errors of 1 - D/V at every V",
                      iso_bad == 0);
  out << "the head has D = " << o.D << " directions whatever V is: as V grows almost all of g is destroyed.\n";

  out << "\n== 3. training: SGD on W [" << o.train_V << ", " << o.train_D << "] and free hidden states H ["
      << o.train_tokens << ", " << o.train_D << "], random targets, lr " << o.train_lr << " on the summed loss ==\n";
  Tensor Wt = requires_grad(randn({o.train_V, o.train_D}, gen, kFloat64, 0, o.train_init_std));
  Tensor Ht = requires_grad(randn({o.train_tokens, o.train_D}, gen, kFloat64, 0, o.train_init_std));
  std::vector<int64_t> tt(o.train_tokens);
  for (auto& x : tt) x = gen.randint(o.train_V);
  const Tensor targets = from_vector(tt, {o.train_tokens});
  out << "   step    loss   destroyed fraction of G   mean per-token f\n";
  for (int64_t step = 0; step <= o.train_steps; ++step) {
    if (step % o.train_every == 0 || step == o.train_steps) {
      NoGradGuard ng;
      // [snippet train]
      const auto m = analysis::head_metrics(Ht, Wt, targets);  // m.destroyed_fraction: ||G - G Q Q^T|| / ||G||
      // [end]
      r.train.push_back({step, m.loss, m.destroyed_fraction, m.per_token.mean});
      char line[120];
      std::snprintf(line, sizeof line, "  %5ld  %6.4f   %23.4f   %16.4f\n", static_cast<long>(step), m.loss,
                    m.destroyed_fraction, m.per_token.mean);
      out << line;
    }
    if (step == o.train_steps) break;
    // [snippet train]
    const Tensor loss = mul(cross_entropy(matmul(Ht, transpose(Wt, 0, 1)), targets), double(o.train_tokens));
    backward(loss);
    for (const Tensor& p : {Wt, Ht}) {  // plain SGD, in place on the leaves
      double* x = p.data<double>();
      const auto gp = grad_of(p).to_vector<double>();
      for (size_t i = 0; i < gp.size(); ++i) x[i] -= o.train_lr * gp[i];
      zero_grad(p);  // .grad accumulates across backward calls: clear it for the next step
    }
    // [end]
  }
  const TrainRow &first = r.train.front(), &last = r.train.back();
  out << "training took the loss from " << num(first.loss) << " to " << num(last.loss)
      << " and the destroyed fraction from " << num(first.destroyed_fraction) << " to "
      << num(last.destroyed_fraction) << " (formula for a random head: "
      << num(std::sqrt(1.0 - double(o.train_D) / double(o.train_V))) << ")\n";
  out << "why: a free hidden state h_i stops moving only where its gradient W^T g_i is 0, that is where g_i\n"
         "has no visible part left. SGD removes what the head can express; what remains is destroyed.\n";
  out << "\n" << (r.failures == 0 ? "all checks passed" : "SOME CHECKS FAILED") << "\n";
  return r;
}

}  // namespace gs::tours
