// Layers at small sizes (B=2, T=3, D=4, H=2) in float64: gradcheck of each layer's inputs and
// parameters, causal masking, node names. Tolerances are autograd/gradcheck.h's defaults
// (eps 1e-6, atol 1e-8, rtol 1e-6): central differences in float64 are accurate to ~1e-9 here.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "nn/attention.h"
#include "nn/layers.h"
#include "nn/transformer.h"
#include "nn_test_helpers.h"

using namespace gs;
using namespace gs::nn;
using gs::testing::random_directions;
using gs::testing::require_module_gradcheck;

namespace {
constexpr int64_t B = 2, T = 3, D = 4, H = 2;

Tensor x64(uint64_t seed, const Shape& s = {B, T, D}) {
  Generator g(seed);
  return randn(s, g, kFloat64);
}

// Perturbs every parameter so that zero-initialised biases and unit norm gains are generic.
void jitter(Module& m, uint64_t seed, double std = 0.3) {
  Generator g(seed);
  NoGradGuard ng;
  for (auto& [n, p] : m.named_parameters()) op::axpy_(p, 1.0, randn(p.shape(), g, p.dtype(), 0, std));
}

// Collects the names of every node a backward pass visits.
struct NameCollector : Observer {
  std::set<std::string> names;
  void on_node(const NodeEvent& e) override { names.insert(e.node.name); }
};
}  // namespace

TEST_CASE("Linear gradcheck, with and without bias", "[nn][layers]") {
  Generator g(1);
  for (bool bias : {true, false}) {
    Linear lin(D, 3, g, bias, kFloat64);
    require_module_gradcheck(lin, [&](const auto& xs) { return lin.forward(xs[0]); }, {x64(2)});
    CHECK(lin.named_parameters().size() == (bias ? 2u : 1u));
  }
}

TEST_CASE("LayerNorm and RMSNorm gradcheck", "[nn][layers]") {
  LayerNorm ln(D, 1e-5, kFloat64);
  jitter(ln, 3);
  require_module_gradcheck(ln, [&](const auto& xs) { return ln.forward(xs[0]); }, {x64(4)});
  RMSNorm rms(D, 1e-6, kFloat64);
  jitter(rms, 5);
  require_module_gradcheck(rms, [&](const auto& xs) { return rms.forward(xs[0]); }, {x64(6)});
}

TEST_CASE("MLP gradcheck", "[nn][layers]") {
  Generator g(7);
  MLP mlp(D, 3 * D, g, kFloat64);
  require_module_gradcheck(mlp, [&](const auto& xs) { return mlp.forward(xs[0]); }, {x64(8)});
}

TEST_CASE("CausalSelfAttention gradcheck", "[nn][attention]") {
  Generator g(9);
  CausalSelfAttention attn(D, H, g, kFloat64);
  require_module_gradcheck(attn, [&](const auto& xs) { return attn.forward(xs[0]); }, {x64(10)});
}

TEST_CASE("CausalSelfAttention: changing a later position leaves earlier outputs unchanged", "[nn][attention]") {
  Generator g(11);
  CausalSelfAttention attn(D, H, g, kFloat64);
  const int64_t TT = 5;
  const Tensor x = x64(12, {B, TT, D});
  for (int64_t changed = 0; changed < TT; ++changed) {
    Tensor x2 = op::clone(x);
    op::copy_(op::narrow(x2, 1, changed, 1), op::add(op::narrow(x, 1, changed, 1), 3.0));
    NoGradGuard ng;
    const auto y1 = attn.forward(x).to_vector<double>(), y2 = attn.forward(x2).to_vector<double>();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < TT; ++t)
        for (int64_t d = 0; d < D; ++d) {
          const size_t i = static_cast<size_t>((b * TT + t) * D + d);
          INFO("changed " << changed << " b " << b << " t " << t << " d " << d);
          if (t < changed) REQUIRE(y1[i] == y2[i]);  // exactly: masked keys get probability 0
        }
    // the changed position itself does move (the check above is not vacuous)
    double diff = 0;
    for (size_t i = 0; i < y1.size(); ++i) diff += std::abs(y1[i] - y2[i]);
    REQUIRE(diff > 1e-6);
  }
}

TEST_CASE("CausalSelfAttention: mask shape, cache and first-row attention", "[nn][attention]") {
  Generator g(13);
  CausalSelfAttention attn(D, H, g, kFloat64);
  const Tensor m = attn.causal_mask(3);
  REQUIRE(m.shape() == Shape{3, 3});
  REQUIRE(m.to_vector<double>() == std::vector<double>{0, 1, 1, 0, 0, 1, 0, 0, 0});
  REQUIRE(attn.causal_mask(3).same(m));  // built once per T
  REQUIRE_THROWS_WITH(CausalSelfAttention(5, 2, g), Catch::Contains("not divisible"));
  REQUIRE_THROWS_WITH(attn.forward(x64(14, {B, T, D + 1})), Catch::Contains("[2, 3, 5]"));
}

TEST_CASE("Block gradcheck and residual structure", "[nn][layers]") {
  Generator g(15);
  Block block(D, H, 4 * D, g, kFloat64);
  jitter(block, 16, 0.1);
  require_module_gradcheck(block, [&](const auto& xs) { return block.forward(xs[0]); }, {x64(17)},
                           random_directions(3));
  // a block whose attn.proj and mlp.fc2 output zero is the identity (pre-norm residual form)
  {
    NoGradGuard ng;
    for (auto* lin : {block.attn->proj.get(), block.mlp->fc2.get()}) {
      op::copy_(lin->weight, zeros(lin->weight.shape(), kFloat64));
      op::copy_(lin->bias, zeros(lin->bias.shape(), kFloat64));
    }
    const Tensor x = x64(18);
    REQUIRE(block.forward(x).to_vector<double>() == x.to_vector<double>());
  }
}

TEST_CASE("attention and block nodes carry the module path", "[nn][attention]") {
  BackboneConfig cfg;
  cfg.vocab = 5;
  cfg.d_model = D;
  cfg.n_layer = 2;
  cfg.n_head = H;
  cfg.context = 4;
  cfg.dtype = kFloat64;
  Generator g(19);
  Transformer tr(cfg, g);
  const Tensor tokens = from_vector<int64_t>({0, 1, 2, 3, 4, 0}, {B, T});
  NameCollector names;
  {
    ObserverScope scope(names);
    backward(sum(tr.forward(tokens)));
  }
  for (const char* n : {"blocks.1.attn.scores", "blocks.1.attn.masked", "blocks.1.attn.probs", "blocks.0.attn.q",
                        "blocks.0.attn.proj", "blocks.0.mlp.fc1", "blocks.1.resid_attn", "blocks.1", "embed", "ln_f"}) {
    INFO(n);
    CHECK(names.names.count(n) == 1);
  }
}
