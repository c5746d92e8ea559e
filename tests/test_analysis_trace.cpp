// Node trace and leak test on real models: what the head destroys never reaches the backbone,
// and the visible part alone reproduces the full backward at every node below the head.
#include <catch2/catch.hpp>

#include "analysis/node_trace.h"
#include "autograd/ops.h"
#include "nn/lm.h"
#include "tensor/ops.h"

using namespace gs;

namespace {
struct Setup {
  std::shared_ptr<nn::LanguageModel> model;
  Tensor tokens, targets, hidden, logits, loss, G;
};
Setup make(const std::string& backbone, const std::string& head, int64_t rank = 0) {
  nn::LMConfig c;
  c.backbone = nn::parse_backbone(backbone);
  c.head = nn::parse_head(head);
  c.rank = rank;
  c.vocab = 40;  // V > D: the head has a nontrivial null space
  c.d_model = 8;
  c.n_layer = 1;
  c.n_head = 2;
  c.context = 6;
  c.dtype = kFloat64;
  c.seed = 3;
  Setup s;
  s.model = nn::make_language_model(c);
  Generator g(11);
  s.tokens = randint({2, 6}, 40, g);
  s.targets = randint({2, 6}, 40, g);
  s.hidden = s.model->hidden(s.tokens);
  s.logits = s.model->head()->forward(s.hidden);
  s.loss = cross_entropy(s.logits, op::reshape(s.targets, {-1}));
  s.G = grad({s.loss}, {s.logits}, {}, /*retain_graph=*/true)[0];
  return s;
}
}  // namespace

TEST_CASE("trace: every node from the loss to the embeddings, relative to ||G||", "[analysis][trace]") {
  Setup s = make("transformer", "full");
  const analysis::NodeTrace t = analysis::trace_backward(s.loss, s.logits, s.hidden);
  REQUIRE(t.logit_grad_norm > 0);
  std::map<std::string, analysis::TraceRow> by;
  for (const auto& r : t.rows) by[r.name + "|" + r.op] = r;
  REQUIRE(by.count("head.logits|matmul"));
  REQUIRE(by["head.logits|matmul"].relative == Approx(1.0));
  REQUIRE_FALSE(by["head.logits|matmul"].below_head);
  REQUIRE(by.count("backbone.wte.weight|(leaf)"));
  REQUIRE(by["backbone.wte.weight|(leaf)"].below_head);
  REQUIRE(by.count("head.weight|(leaf)"));
  REQUIRE_FALSE(by["head.weight|(leaf)"].below_head);
  // the norm arriving at the logits is ||G||_F computed independently
  REQUIRE(t.logit_grad_norm == Approx(std::sqrt(op::sum(op::mul(s.G, s.G)).item<double>())).epsilon(1e-12));
  // nothing was accumulated into any .grad
  for (const auto& [name, p] : s.model->named_parameters()) REQUIRE_FALSE(grad_of(p).defined());
}

TEST_CASE("leak test: destroyed part reaches nothing below the head, visible part is the whole story",
          "[analysis][leak]") {
  for (const auto& [backbone, head, rank] : std::vector<std::tuple<std::string, std::string, int64_t>>{
           {"transformer", "full", 0}, {"gru", "full", 0}, {"ssm", "full", 0}, {"transformer", "factorized", 3}}) {
    INFO(backbone << " backbone, " << head << " head");
    Setup s = make(backbone, head, rank);
    const auto basis = analysis::head_basis(s.model->head()->head_matrix());
    const analysis::LeakReport r = analysis::leak_test(s.logits, s.hidden, s.G, basis);
    INFO("destroyed max at " << r.destroyed_node << ", visible max at " << r.visible_node);
    REQUIRE(r.nodes_checked > 5);
    // float64 throughout: both are rounding-level (1e-10 leaves a wide margin over ~1e-15)
    REQUIRE(r.destroyed_max < 1e-10);
    REQUIRE(r.visible_max_diff < 1e-10);
  }
}

TEST_CASE("leak test can fail: with the wrong subspace the 'destroyed' part does reach the backbone",
          "[analysis][leak]") {
  Setup s = make("transformer", "full");
  // a random D-dim subspace instead of col(W): its complement is not W's null space
  Generator g(5);
  const auto wrong = analysis::head_basis(randn({40, 8}, g, kFloat64));
  const analysis::LeakReport r = analysis::leak_test(s.logits, s.hidden, s.G, wrong);
  REQUIRE(r.destroyed_max > 0.1);
  REQUIRE(r.visible_max_diff > 0.1);
}
