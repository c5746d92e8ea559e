// Golden GRU and SSM language models and the factorized head (oracle 2 of the design): gradscope's
// LanguageModel against the same model rebuilt op for op in PyTorch 1.13 by
// scripts/golden/make_backbone_golden.py, the companion of test_golden_gpt.cpp for the other
// backbones and the other head. Three models, V 11, D 8, B 2, T 5, one target ignored:
//   gru             GRU backbone (2 layers, final LayerNorm) + untied FullHead
//   ssm             SSM backbone (2 layers) + untied FullHead
//   gru_factorized  GRU backbone (1 layer, final_norm off) + FactorizedHead of rank 3
// The weights come from safetensors files written by hand in Python and enter the model through
// Module::load_state (strict); the batch, the logits, the loss and every parameter gradient come
// from GSGOLD1 files (tests/golden/README.md). The loss and the gradients are checked on both of
// LanguageModel::loss's paths: the fused linear_cross_entropy and the unfused logits +
// cross_entropy (torch computes the unfused one).
//
// Tolerance as in test_golden_gpt.cpp (the reasoning is there): per tensor b (torch) and ours a,
// max_i |a_i - b_i| <= tol * max_i |b_i|, tol = 1e-10 in float64 and 1e-4 in float32. The longest
// chains here are the recurrences: T = 5 steps through 2 layers, each step a matmul of <= 8 terms
// and a few elementwise ops, so the expected disagreement is rounding, ~1e-14 of the scale in
// float64 and ~1e-6 in float32. No gradient here is zero in exact arithmetic, so max |b_i| is a
// scale for every tensor. Modelling differences stand far above the tolerance: a gate order
// swapped, the hidden bias outside r * (.), a state started at something else than zero, an
// RMSNorm eps or a decay that is not sigmoid(a) move the logits by far more than 1e-10 of their
// scale. Measured worst (torch 1.13, OpenBLAS, 2 threads, both loss paths): 9.7e-16 in float64,
// 7.4e-7 in float32. GS_GOLDEN_VERBOSE=1 prints the worst error of every tensor.
#include <catch2/catch.hpp>

#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "autograd/ops.h"
#include "golden_compare.h"
#include "golden_loader.h"
#include "nn/lm.h"
#include "nn/safetensors.h"
#include "tensor/ops.h"

using namespace gs;
using gs::testing::golden_path;
using gs::testing::GoldenFile;
using gs::testing::require_close_at_scale;

namespace {

// One model of make_backbone_golden.py: files <name>_lm_{f64,f32}.bin and
// <name>_lm_weights_{f64,f32}.safetensors, the configuration the script stores in the metadata
// (dtype set per file) and its number of parameter tensors.
struct GoldenModel {
  std::string name;
  nn::LMConfig config;
  size_t n_params;
};

GoldenModel golden_model(const std::string& name) {
  GoldenModel m{name, {}, 0};
  m.config.vocab = 11;
  m.config.d_model = 8;
  if (name == "gru") {
    m.config.backbone = nn::BackboneKind::gru;
    m.config.head = nn::HeadKind::full;
    m.config.n_layer = 2;
    m.n_params = 1 + 2 * 4 + 2 + 1;  // wte + 2 layers x (ih, hh) x (weight, bias) + ln_f x 2 + head
  } else if (name == "ssm") {
    m.config.backbone = nn::BackboneKind::ssm;
    m.config.head = nn::HeadKind::full;
    m.config.n_layer = 2;
    m.n_params = 1 + 2 * 6 + 2 + 1;  // wte + 2 layers x (norm, a x 2, in, g, out) + ln_f x 2 + head
  } else if (name == "gru_factorized") {
    m.config.backbone = nn::BackboneKind::gru;
    m.config.head = nn::HeadKind::factorized;
    m.config.rank = 3;
    m.config.n_layer = 1;
    m.config.final_norm = false;
    m.n_params = 1 + 4 + 2;  // wte + 1 layer x (ih, hh) x (weight, bias) + head.down + head.up
  } else {
    FAIL("no golden model named " << name);
  }
  return m;
}

std::shared_ptr<nn::LanguageModel> load_golden(const GoldenModel& m, const std::string& sfx, DType dtype) {
  nn::LMConfig want = m.config;
  want.dtype = dtype;
  return gs::testing::load_golden_lm(m.name + "_lm_weights_" + sfx + ".safetensors", want);
}

// The parameter names of the model are exactly those the golden files hold gradients for (so a
// parameter without a torch gradient, or a torch gradient without a parameter, fails), and the
// loaded values are the file's, bit for bit.
void check_names_and_weights(const std::string& name, const std::vector<std::string>& must_have,
                             const std::vector<std::string>& must_not_have) {
  const GoldenModel m = golden_model(name);
  INFO("golden model " << name);
  auto model = load_golden(m, "f64", kFloat64);
  REQUIRE(model->named_parameters().size() == m.n_params);
  const std::set<std::string> names = gs::testing::parameter_names(*model);
  for (const char* sfx : {"f64", "f32"}) {
    INFO("dtype " << sfx);
    CHECK(names == gs::testing::golden_gradient_names(GoldenFile(golden_path(m.name + "_lm_" + sfx + ".bin"))));
  }
  for (const auto& n : must_have) CHECK(names.count(n) == 1);
  for (const auto& n : must_not_have) CHECK(names.count(n) == 0);
  const auto st = nn::load_safetensors(golden_path(m.name + "_lm_weights_f64.safetensors"));
  for (const auto& [n, t] : st.tensors) {
    INFO(n);
    CHECK(model->state().at(n).to_vector<double>() == t.to_vector<double>());
  }
}

// Logits, loss and every parameter gradient against torch, in float64 and float32, through the
// fused and the unfused loss (a fresh model each time).
void check_against_torch(const std::string& name) {
  const GoldenModel m = golden_model(name);
  for (const auto& [sfx, dtype, tol] : {std::tuple{"f64", kFloat64, 1e-10}, std::tuple{"f32", kFloat32, 1e-4}}) {
    for (const bool fused : {true, false}) {
      INFO("golden model " << name << ", dtype " << sfx << (fused ? ", fused loss" : ", unfused loss"));
      const GoldenFile gf(golden_path(m.name + "_lm_" + sfx + ".bin"));
      auto model = load_golden(m, sfx, dtype);
      const Tensor tokens = gf.get("tokens"), targets = gf.get("targets");
      REQUIRE(tokens.dtype() == kInt64);
      REQUIRE(targets.to_vector<int64_t>()[7] == -100);  // targets[1, 2]: the ignored one

      require_close_at_scale(model->forward(tokens), gf, "logits", tol);

      nn::LossOptions opt;
      opt.fused = fused;
      const Tensor loss = model->loss(tokens, targets, opt);
      require_close_at_scale(loss, gf, "loss", tol);
      backward(loss);
      for (const auto& [pname, p] : model->named_parameters()) {
        INFO("parameter " << pname);
        require_close_at_scale(grad_of(p), gf, "grad." + pname, tol);
      }
    }
  }
}

}  // namespace

TEST_CASE("golden GRU LM: torch-made weights load into gradscope's parameter names", "[golden][nn]") {
  check_names_and_weights("gru", {"backbone.layers.1.hh.bias", "backbone.ln_f.weight", "head.weight"}, {});
}

TEST_CASE("golden GRU LM: logits, loss and every parameter gradient match torch", "[golden][nn]") {
  check_against_torch("gru");
}

TEST_CASE("golden SSM LM: torch-made weights load into gradscope's parameter names", "[golden][nn]") {
  check_names_and_weights("ssm", {"backbone.layers.1.norm.weight", "backbone.layers.0.a.bias",
                                  "backbone.layers.1.out.weight", "backbone.ln_f.bias", "head.weight"},
                          {});
}

TEST_CASE("golden SSM LM: logits, loss and every parameter gradient match torch", "[golden][nn]") {
  check_against_torch("ssm");
}

TEST_CASE("golden factorized head (GRU LM): torch-made weights load into gradscope's parameter names",
          "[golden][nn]") {
  check_names_and_weights("gru_factorized", {"head.down.weight", "head.up.weight", "backbone.layers.0.ih.weight"},
                          {"head.weight", "backbone.ln_f.weight", "backbone.layers.1.ih.weight"});
}

TEST_CASE("golden factorized head (GRU LM): logits, loss and every parameter gradient match torch",
          "[golden][nn]") {
  check_against_torch("gru_factorized");
}
