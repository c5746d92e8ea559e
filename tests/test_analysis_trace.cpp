// Node trace and leak test on real models: what the head destroys never reaches the backbone,
// and the visible part alone reproduces the full backward at every node below the head.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>

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

TEST_CASE("trace: every row has a unique id, repeated names get #k, unique ones keep their name",
          "[analysis][trace]") {
  Setup s = make("transformer", "full");
  const analysis::NodeTrace t = analysis::trace_backward(s.loss, s.logits, s.hidden);
  std::map<std::string, int> per_name;
  for (const auto& r : t.rows) ++per_name[r.name];
  std::set<std::string> ids;
  int repeated = 0;
  for (const auto& r : t.rows) {
    INFO(r.name << " -> " << r.id);
    CHECK(ids.insert(r.id).second);  // no id twice
    if (per_name[r.name] == 1) {
      CHECK(r.id == r.name);
    } else {
      ++repeated;
      const std::string prefix = r.name + "#";
      REQUIRE(r.id.rfind(prefix, 0) == 0);
      const int k = std::stoi(r.id.substr(prefix.size()));
      CHECK(k >= 1);
      CHECK(k <= per_name[r.name]);
    }
  }
  // attention reshapes and permutes q, k and v alike, in one name scope: names do repeat here
  CHECK(repeated > 0);
  CHECK(per_name["backbone.blocks.0.attn.permute"] > 1);
  CHECK(ids.count("backbone.blocks.0.attn.permute#1"));
  CHECK(ids.count("head.logits"));
}

TEST_CASE("trace_backward: arguments off the path are named in trace_backward's words", "[analysis][trace][errors]") {
  using Catch::Matchers::Contains;
  using Catch::Matchers::StartsWith;
  Setup s = make("transformer", "full");
  // logits and hidden of a second forward pass: the loss depends on neither
  const Tensor hidden2 = s.model->hidden(s.tokens);
  const Tensor logits2 = s.model->head()->forward(hidden2);
  CHECK_THROWS_WITH(analysis::trace_backward(s.loss, logits2, s.hidden),
                    StartsWith("trace_backward: logits [12, 40] is not on the path of loss"));
  CHECK_THROWS_WITH(analysis::trace_backward(s.loss, detach(s.logits), s.hidden),
                    StartsWith("trace_backward: logits [12, 40] is not on the path of loss"));
  // swapped: the "hidden" argument is computed from the "logits" one
  CHECK_THROWS_WITH(analysis::trace_backward(s.loss, s.hidden, s.logits),
                    StartsWith("trace_backward: hidden [12, 40] is not below logits [12, 8]") &&
                        Contains("passed in each other's place"));
  // hidden states the logits were not computed from
  CHECK_THROWS_WITH(analysis::trace_backward(s.loss, s.logits, hidden2),
                    StartsWith("trace_backward: hidden [12, 8] is not below logits [12, 40] (the logits do not depend"));
  // the fused form: hidden must be on the loss's path
  CHECK_THROWS_WITH(analysis::trace_backward(s.loss, 1.0, hidden2),
                    StartsWith("trace_backward: hidden [12, 8] is not on the path of loss"));
  // the right arguments still trace, with or without hidden
  CHECK(analysis::trace_backward(s.loss, s.logits, s.hidden).logit_grad_norm > 0);
  CHECK(analysis::trace_backward(s.loss, s.logits).logit_grad_norm > 0);
  CHECK(analysis::trace_backward(s.loss, 1.0, s.hidden).rows.size() > 5);
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
