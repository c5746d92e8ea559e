// The monitor measured inside the fused loss pass against the same batch measured from an
// unfused logits node, and HeadMetricsStream (fed by linear_cross_entropy's on_chunk) against
// head_metrics. Both routes share the metric formulas but not the wiring: one takes G from the
// fused op's chunks, the other from autograd at the logits node, so a wrong row offset, a wrong
// scale or the wrong H (hidden instead of head_input(hidden)) shows as a difference. float64
// throughout: the two routes differ only by summation order (1e-10 relative leaves ~1e5 ulps).
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <vector>

#include "analysis/head_bottleneck.h"
#include "analysis/jacobian_metric.h"
#include "analysis/monitor.h"
#include "autograd/ops.h"
#include "nn/head.h"
#include "nn/lm.h"
#include "tensor/ops.h"

using namespace gs;

namespace {

constexpr double kRel = 1e-10;

bool close(double a, double b, double rel = kRel) { return std::abs(a - b) <= rel * std::max(1.0, std::abs(b)); }

std::shared_ptr<nn::LanguageModel> model_for(const std::string& backbone, const std::string& head, bool tied) {
  nn::LMConfig c;
  c.backbone = nn::parse_backbone(backbone);
  c.head = nn::parse_head(head);
  c.rank = head == "factorized" ? 3 : 0;
  c.tied = tied;
  c.vocab = 50;  // V > D: the head has a null space
  c.d_model = 8;
  c.n_layer = 1;
  c.n_head = 2;
  c.context = 12;
  c.dtype = kFloat64;
  c.seed = 5;
  return nn::make_language_model(c);
}

nn::Batch batch_for(uint64_t seed) {
  Generator g(seed);
  return {randint({3, 12}, 50, g), randint({3, 12}, 50, g)};
}

void require_same_metrics(const analysis::HeadMetrics& a, const analysis::HeadMetrics& b) {
  CHECK(a.tokens == b.tokens);
  CHECK(a.basis_rank == b.basis_rank);
  CHECK(close(a.logit_grad_norm, b.logit_grad_norm));
  CHECK(close(a.visible_norm, b.visible_norm));
  CHECK(close(a.destroyed_fraction, b.destroyed_fraction));
  CHECK(close(a.per_token.mean, b.per_token.mean));
  CHECK(close(a.per_token.p5, b.per_token.p5));
  CHECK(close(a.per_token.p95, b.per_token.p95));
  CHECK(close(a.hidden_grad_norm, b.hidden_grad_norm));
  CHECK(close(a.update.cosine, b.update.cosine));
  CHECK(close(a.update.backbone_term_norm, b.update.backbone_term_norm));
  CHECK(close(a.update.head_term_norm, b.update.head_term_norm));
  REQUIRE(a.spectrum.singular_values.size() == b.spectrum.singular_values.size());
  const double s0 = b.spectrum.singular_values.empty() ? 1 : b.spectrum.singular_values[0];
  for (size_t i = 0; i < a.spectrum.singular_values.size(); ++i)
    CHECK(std::abs(a.spectrum.singular_values[i] - b.spectrum.singular_values[i]) <= 1e-9 * s0);
  CHECK(a.spectrum.exact == b.spectrum.exact);
  CHECK(a.spectrum.components_for_90 == b.spectrum.components_for_90);
  CHECK(a.spectrum.components_for_999 == b.spectrum.components_for_999);
}

// ||G - P G||_F / ||G||_F from an explicit G, with the projector onto col(W) written out on the
// host: visible^2 = sum_i a_i^T C^{-1} a_i, a_i = W^T g_i, C = W^T W (W of full column rank;
// Cholesky here), none of the analysis code involved.
double destroyed_by_hand(const Tensor& G_in, const Tensor& W_in) {
  const int64_t N = G_in.size(0), V = G_in.size(1), k = W_in.size(1);
  const std::vector<double> G = op::contiguous(G_in).to_vector<double>(), W = op::contiguous(W_in).to_vector<double>();
  std::vector<double> L(static_cast<size_t>(k * k), 0.0);  // C = L L^T
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double c = 0;
      for (int64_t v = 0; v < V; ++v) c += W[v * k + i] * W[v * k + j];
      for (int64_t m = 0; m < j; ++m) c -= L[i * k + m] * L[j * k + m];
      L[i * k + j] = i == j ? std::sqrt(c) : c / L[j * k + j];
    }
  double total = 0, visible = 0;
  for (int64_t n = 0; n < N; ++n) {
    std::vector<double> a(static_cast<size_t>(k), 0.0);
    for (int64_t v = 0; v < V; ++v) {
      total += G[n * V + v] * G[n * V + v];
      for (int64_t i = 0; i < k; ++i) a[i] += W[v * k + i] * G[n * V + v];
    }
    for (int64_t i = 0; i < k; ++i) {  // a^T C^{-1} a = ||L^{-1} a||^2 (forward substitution)
      for (int64_t m = 0; m < i; ++m) a[i] -= L[i * k + m] * a[m];
      a[i] /= L[i * k + i];
      visible += a[i] * a[i];
    }
  }
  return std::sqrt((total - visible) / total);
}

}  // namespace

TEST_CASE("monitor: the fused pass measures what the logits node gives (every backbone and head)",
          "[analysis][monitor]") {
  struct Case {
    const char* backbone;
    const char* head;
    bool tied;
  };
  for (const Case& k : {Case{"transformer", "full", false}, Case{"transformer", "full", true},
                        Case{"transformer", "factorized", false}, Case{"gru", "full", false}, Case{"ssm", "full", false}}) {
    INFO(k.backbone << " " << k.head << (k.tied ? " tied" : ""));
    const auto model = model_for(k.backbone, k.head, k.tied);
    const nn::Batch b = batch_for(17);
    analysis::MonitorOptions fused, unfused;
    unfused.fused = false;
    const analysis::BottleneckSample f = analysis::measure_bottleneck(*model, b, 4, fused);
    const analysis::BottleneckSample l = analysis::measure_bottleneck(*model, b, 4, unfused);
    REQUIRE(f.fused);
    REQUIRE_FALSE(l.fused);
    CHECK(close(f.loss, l.loss));
    CHECK(close(f.loss, model->loss(b.inputs, b.targets).item<double>()));
    require_same_metrics(f.head, l.head);
    // by default every singular value of the exact spectrum (min(N, V) = 36), whose squares sum
    // to ||G||_F^2
    REQUIRE(f.head.spectrum.exact);
    REQUIRE(f.head.spectrum.singular_values.size() == 36);
    double sq = 0;
    for (double v : f.head.spectrum.singular_values) sq += v * v;
    CHECK(close(sq, f.head.logit_grad_norm * f.head.logit_grad_norm));
    // the trace of the fused backward: every node below the head has the unfused gradient
    REQUIRE(f.first_block_node == l.first_block_node);
    CHECK(close(f.first_block_relative, l.first_block_relative));
    // (names repeat, e.g. one narrow per time step: rows are compared in backward order)
    std::vector<analysis::TraceRow> fb, lb;
    for (const auto& r : f.trace.rows)
      if (r.below_head) fb.push_back(r);
    for (const auto& r : l.trace.rows)
      if (r.below_head) lb.push_back(r);
    REQUIRE(fb.size() == lb.size());
    REQUIRE(fb.size() > 5);
    for (size_t i = 0; i < fb.size(); ++i) {
      INFO(fb[i].name << " " << fb[i].op << " vs " << lb[i].name << " " << lb[i].op);
      REQUIRE(fb[i].name == lb[i].name);
      REQUIRE(fb[i].op == lb[i].op);
      CHECK(close(fb[i].grad_norm, lb[i].grad_norm, 1e-9));
    }
    // no logits node in the fused trace
    for (const auto& r : f.trace.rows) CHECK(r.name != "head.logits");
    // the destroyed fraction by hand from the logits node's G
    const Tensor logits = model->forward(b.inputs);
    const Tensor loss = cross_entropy(logits, op::reshape(b.targets, {-1}));
    const Tensor G = grad({loss}, {logits})[0];
    CHECK(close(f.head.destroyed_fraction, destroyed_by_hand(G, detach(model->head()->head_matrix()))));
    // nothing was accumulated into any .grad
    for (const auto& [name, p] : model->named_parameters()) CHECK_FALSE(grad_of(p).defined());
  }
}

TEST_CASE("monitor: the leak test still runs beside a fused measurement", "[analysis][monitor]") {
  const auto model = model_for("transformer", "full", false);
  analysis::MonitorOptions o;
  o.leak_test = true;
  const analysis::BottleneckSample s = analysis::measure_bottleneck(*model, batch_for(3), 1, o);
  REQUIRE(s.fused);
  REQUIRE(s.has_leak);
  CHECK(s.leak.nodes_checked > 0);
  CHECK(s.leak.destroyed_max < 1e-10);
  CHECK(s.leak.visible_max_diff < 1e-10);
}

TEST_CASE("HeadMetricsStream: linear_cross_entropy's chunks give head_metrics' numbers", "[analysis][monitor]") {
  Generator g(21);
  const int64_t N = 23, V = 41, D = 6;
  const Tensor H = randn({N, D}, g, kFloat64), W = randn({V, D}, g, kFloat64);
  Tensor y = randint({N}, V, g);
  auto yv = y.to_vector<int64_t>();
  yv[4] = yv[9] = -100;  // ignored rows: zero rows of G, not tokens
  y = from_vector(yv);
  analysis::HeadMetricsOptions ho;
  ho.topk = 12;
  const analysis::HeadBasis basis = analysis::head_basis(W);
  const analysis::HeadMetrics ref = analysis::head_metrics(H, W, y, basis, ho);
  for (int64_t chunk : {1, 5, 23}) {
    INFO("chunk " << chunk);
    analysis::HeadMetricsStream s(W, y, basis, ho);
    LinearCrossEntropyOptions lo;
    lo.chunk = chunk;
    lo.on_chunk = s.on_chunk();
    const double loss = linear_cross_entropy(H, W, y, lo).item<double>();
    const analysis::HeadMetrics m = s.finish();
    CHECK(close(m.loss, ref.loss));
    CHECK(close(loss, ref.loss));
    CHECK(m.tokens == N - 2);
    CHECK(m.run.chunk == chunk);
    require_same_metrics(m, ref);
  }
}

TEST_CASE("HeadMetricsStream: errors name what is wrong", "[analysis][monitor][errors]") {
  Generator g(2);
  const Tensor H = randn({4, 3}, g, kFloat64), W = randn({7, 3}, g, kFloat64);
  const Tensor y = randint({4}, 7, g);
  const analysis::HeadBasis basis = analysis::head_basis(W);
  analysis::HeadMetricsOptions promote;
  promote.promote_float64 = true;
  CHECK_THROWS_WITH(analysis::HeadMetricsStream(W, y, basis, promote), Catch::Contains("promote_float64"));
  CHECK_THROWS_WITH(analysis::HeadMetricsStream(W, from_vector(std::vector<int64_t>{0, 9}), basis),
                    Catch::Contains("target 9 at row 1 is out of range for V = 7"));
  {
    analysis::HeadMetricsStream s(W, y, basis);
    CHECK_THROWS_WITH(s.finish(), Catch::Contains("finish() after 0 of 4 rows"));
  }
  {
    analysis::HeadMetricsStream s(W, y, basis);
    const Tensor G = zeros({2, 7}, kFloat64);
    CHECK_THROWS_WITH(s.add({2, 4, G, op::narrow(H, 0, 2, 2), 0.0}), Catch::Contains("does not continue the pass at row 0"));
    CHECK_THROWS_WITH(s.add({0, 2, zeros({2, 7}, kFloat32), op::to(op::narrow(H, 0, 0, 2), kFloat32), 0.0}),
                      Catch::Contains("must have W's dtype (float64)"));
    CHECK_THROWS_WITH(s.add({0, 2, zeros({2, 6}, kFloat64), op::narrow(H, 0, 0, 2), 0.0}),
                      Catch::Contains("must be [2, 7] and [2, 3]"));
  }
}

namespace {
// A head with right logits h W^T whose head_matrix() or rank() is wrong: W^T [D, V] instead of W
// [V, D] (a transposed matrix), or a matrix of k = 4 columns while head_input(h) has D = 8.
class MisdeclaredHead : public nn::LMHead {
 public:
  enum class Mistake { transposed, narrowed };
  MisdeclaredHead(int64_t d, int64_t v, Mistake m, Generator& gen) : mistake(m) {
    weight = register_parameter("weight", randn({v, d}, gen, kFloat64, 0, 0.3));
  }
  Tensor forward(const Tensor& h) const override {
    check_hidden(h);
    NameScope scope(path());
    return set_name(matmul(h, transpose(weight, 0, 1)), node_name("logits"));
  }
  Tensor head_matrix() const override {
    NoGradGuard ng;
    return mistake == Mistake::transposed ? op::transpose(weight, 0, 1) : op::narrow(weight, 1, 0, 4);
  }
  Tensor head_input(const Tensor& h) const override { return h; }
  int64_t vocab() const override { return weight.size(0); }
  int64_t d_model() const override { return weight.size(1); }
  int64_t rank() const override { return mistake == Mistake::transposed ? weight.size(1) : 4; }
  std::string kind() const override { return "misdeclared"; }
  Tensor weight;
  Mistake mistake;
};
}  // namespace

TEST_CASE("monitor: a custom head whose matrix has the wrong shape is named by its method", "[analysis][monitor][errors]") {
  using Catch::Matchers::Contains;
  using Catch::Matchers::StartsWith;
  nn::LMConfig cfg;
  cfg.vocab = 32;
  cfg.d_model = 8;
  cfg.n_layer = 1;
  cfg.n_head = 2;
  cfg.context = 6;
  cfg.dtype = kFloat64;
  Generator g(4);
  const nn::Batch b{randint({2, 6}, 32, g), randint({2, 6}, 32, g)};
  for (bool fused : {true, false}) {
    INFO((fused ? "fused" : "unfused") << " monitor");
    analysis::MonitorOptions o;
    o.fused = fused;
    {
      Generator gen(3);
      auto head = std::make_shared<MisdeclaredHead>(8, 32, MisdeclaredHead::Mistake::transposed, gen);
      const nn::LanguageModel model(nn::make_backbone("transformer", cfg.backbone_config(), gen), head, cfg);
      // it used to say "basis (Q [8, 8], rank 8) does not match W [32, 32]: use head_basis(W)"
      CHECK_THROWS_WITH(analysis::measure_bottleneck(model, b, 0, o),
                        StartsWith("measure_bottleneck: head.head_matrix() is [8, 32], expected [V, k] = [32, 8]"));
    }
    {
      Generator gen(3);
      auto head = std::make_shared<MisdeclaredHead>(8, 32, MisdeclaredHead::Mistake::narrowed, gen);
      const nn::LanguageModel model(nn::make_backbone("transformer", cfg.backbone_config(), gen), head, cfg);
      o.keep_inputs = !fused;  // the check also guards the kept copies
      CHECK_THROWS_WITH(analysis::measure_bottleneck(model, b, 0, o),
                        StartsWith("measure_bottleneck: head.head_input(h) is [12, 8] but head.head_matrix() is "
                                   "[32, 4]"));
    }
  }
  // grad_metrics, given G and a basis of the wrong matrix, names G (it has no W to name)
  Generator gen(5);
  const Tensor G = randn({16, 32}, gen, kFloat64);
  const analysis::HeadBasis wrong = analysis::head_basis(randn({8, 32}, gen, kFloat64));
  CHECK_THROWS_WITH(analysis::grad_metrics(G, Tensor(), wrong),
                    StartsWith("head_metrics: basis (Q [8, 8], rank 8, of a [8, 32] matrix) does not match G [16, 32]: "
                               "Q must have G's V = 32 rows") &&
                        !Contains("W ["));
}

namespace {

// A head that is not linear in h: z_v = (h . a_v)(h . b_v). Its Jacobian's column space moves with
// h; head_matrix() returns A, a linearisation the column-space metric would (wrongly) trust.
class QuadraticHead : public nn::LMHead {
 public:
  QuadraticHead(int64_t d, int64_t v, Generator& g) {
    a = register_parameter("a", randn({v, d}, g, kFloat64, 0.0, 0.5));
    b = register_parameter("b", randn({v, d}, g, kFloat64, 0.0, 0.5));
  }
  Tensor forward(const Tensor& h) const override {
    return mul(matmul(h, transpose(a, 0, 1)), matmul(h, transpose(b, 0, 1)));
  }
  Tensor head_matrix() const override { return a; }
  Tensor head_input(const Tensor& h) const override { return h; }
  int64_t vocab() const override { return a.size(0); }
  int64_t d_model() const override { return a.size(1); }
  int64_t rank() const override { return a.size(1); }
  std::string kind() const override { return "quadratic"; }
  Tensor a, b;
};

}  // namespace

TEST_CASE("monitor: a head that is not linear is measured by its Jacobian, with the leak test on by default",
          "[analysis][monitor][jacobian]") {
  const auto base = model_for("transformer", "full", false);
  Generator g(3);
  auto head = std::make_shared<QuadraticHead>(8, 50, g);
  nn::LanguageModel model(base->backbone(), head, base->config());
  const nn::Batch batch = batch_for(9);
  const analysis::BottleneckSample s = analysis::measure_bottleneck(model, batch, 0);
  CHECK(s.head.metric == "jacobian");
  CHECK(s.has_leak);  // not a built-in head: on without being asked

  // the same figures from the parts: G from the logits, then the Jacobian and column-space metrics
  const Tensor hidden = model.hidden(batch.inputs);
  const Tensor logits = head->forward(hidden);
  const Tensor loss = cross_entropy(logits, op::reshape(batch.targets, {-1}));
  const Tensor G = grad({loss}, {logits})[0];
  const analysis::JacobianMetrics j = analysis::jacobian_destroyed(
      [&](const Tensor& h) { return head->forward(h); }, detach(hidden), G);
  const analysis::HeadMetrics c = analysis::grad_metrics(G, detach(hidden), analysis::head_basis(head->a));
  CHECK(close(s.head.destroyed_fraction, j.destroyed_fraction));
  CHECK(close(s.head.per_token.p50, j.per_token.p50));
  CHECK(close(s.head.column_space_destroyed_fraction, c.destroyed_fraction));
  CHECK(std::abs(j.destroyed_fraction - c.destroyed_fraction) > 1e-3);  // the two really differ here

  // a built-in (linear) head: the column-space figure, no leak test unless asked
  const analysis::BottleneckSample f = analysis::measure_bottleneck(*base, batch, 0);
  CHECK(f.head.metric == "column_space");
  CHECK(std::isnan(f.head.column_space_destroyed_fraction));
  CHECK_FALSE(f.has_leak);
}
