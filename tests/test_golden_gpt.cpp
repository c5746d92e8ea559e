// Golden tiny GPT (oracle 2 of the design): gradscope's LanguageModel (Transformer backbone + untied
// FullHead) against the same model rebuilt op for op in PyTorch 1.13 by
// scripts/golden/make_gpt_golden.py (V 11, D 8, 2 layers, 2 heads, context 7, B 2, T 5, one
// target ignored). The weights come from a safetensors file written by hand in Python and enter
// the model through Module::load_state; the batch, the logits, the loss and every parameter
// gradient come from a GSGOLD1 file (tests/golden/README.md).
//
// Tolerance, per tensor b (torch) and ours a:  max_i |a_i - b_i| <= tol * max_i |b_i|,
// tol = 1e-10 in float64 and 1e-4 in float32 (float32 accumulates rounding over two layers). That
// is the error relative to the tensor's largest entry (for the scalar loss: plain relative error).
// Why not element-wise relative: a gradient entry is a sum of products whose terms are as large as
// the tensor's large entries, so an entry near zero is a cancellation and its rounding error is
// absolute at the tensor's scale; a per-element relative test would measure that noise. Why not
// test_golden.cpp's max(1, |b|): here the gradients are O(1e-3..1e-1), and an absolute 1e-10
// floor would be far looser than "1e-10 relative". Expected disagreement: rounding through ~40 ops
// in a row (two blocks of layer norm, three matmuls, softmax, GELU) with sums of <= 32 terms,
// i.e. ~1e-14 of the scale in float64 and ~1e-6 in float32; both tolerances leave orders of
// magnitude of margin (float64: about four, room for another BLAS or summation order), while
// modelling differences stand far above them: GELU's erf form instead of the tanh form moves the
// logits by 6e-4 of their scale, LayerNorm eps 1e-6 instead of 1e-5 by 6e-5 (both caught in
// float64, the first also in float32); a missing 1/sqrt(dh), a mask off by one or post-norm
// blocks move them by O(0.1..1).
// One exception: the gradient of each attention key bias (attn.k.bias) is zero in exact
// arithmetic (the bias adds q . b_k to every score of a query row, and softmax ignores a per-row
// constant), so both engines hold rounding noise there (~1e-17 in float64) and max |b_i| is no
// scale. For it the scale is that of the same layer's attn.k.weight gradient (the same sums
// without the cancellation), and the test first checks torch's own values are below tol of it.
// Measured worst (torch 1.13, OpenBLAS, 2 threads): 1.9e-15 in float64, 7.8e-7 in float32
// (attn.k.bias: 2.0e-16 and 1.2e-7 of the k.weight scale). GS_GOLDEN_VERBOSE=1 prints each.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <tuple>
#include <string>
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

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The rule above (tests/golden_compare.h); the message names the file, the tensor and the worst
// element.
void require_close(const Tensor& ours, const GoldenFile& gf, const std::string& name, double tol) {
  using gs::testing::max_abs_value;
  double scale = max_abs_value(gf.get(name).to_vector<double>());
  if (ends_with(name, "attn.k.bias")) {  // exactly zero in exact arithmetic: see the top of the file
    INFO("golden file " << gf.path() << ", tensor '" << name << "'");
    const double torch_max = scale;
    const std::string weight = name.substr(0, name.size() - 4) + "weight";
    scale = max_abs_value(gf.get(weight).to_vector<double>());
    INFO("torch's " << name << " is " << torch_max << ", the scale of " << weight << " is " << scale);
    REQUIRE(torch_max <= tol * scale);
  }
  gs::testing::require_close_at_scale(ours, gf, name, tol, scale);
}

// The model the golden files describe, with the file's weights loaded (strict: the names in the
// file are exactly gradscope's parameter names).
std::shared_ptr<nn::LanguageModel> load_golden_gpt(const std::string& sfx, DType dtype) {
  nn::LMConfig want;
  want.backbone = nn::BackboneKind::transformer;
  want.head = nn::HeadKind::full;
  want.vocab = 11;
  want.d_model = 8;
  want.n_layer = 2;
  want.n_head = 2;
  want.context = 7;
  want.mlp_ratio = 4;
  want.dtype = dtype;
  return gs::testing::load_golden_lm("gpt_weights_" + sfx + ".safetensors", want);
}

}  // namespace

TEST_CASE("golden GPT: torch-made weights load into gradscope's parameter names", "[golden][nn]") {
  const GoldenFile gf(golden_path("gpt_f64.bin"));
  auto model = load_golden_gpt("f64", kFloat64);
  const nn::NamedTensors params = model->named_parameters();
  // 2 embeddings + 2 blocks x (2 LayerNorms x 2 + 4 attention Linears x 2 + 2 MLP Linears x 2) + ln_f x 2 + head
  REQUIRE(params.size() == 2 + 2 * (4 + 8 + 4) + 2 + 1);
  const std::set<std::string> names = gs::testing::parameter_names(*model);
  CHECK(names == gs::testing::golden_gradient_names(gf));
  CHECK(names.count("backbone.blocks.1.attn.proj.weight") == 1);
  CHECK(names.count("head.weight") == 1);
  // the values really came from the file (not the init): compare one tensor bit for bit
  const auto st = nn::load_safetensors(golden_path("gpt_weights_f64.safetensors"));
  CHECK(model->state().at("backbone.ln_f.bias").to_vector<double>() ==
        st.tensors.at("backbone.ln_f.bias").to_vector<double>());
}

TEST_CASE("golden GPT: logits, loss and every parameter gradient match torch", "[golden][nn]") {
  for (const auto& [sfx, dtype, tol] : {std::tuple{"f64", kFloat64, 1e-10}, std::tuple{"f32", kFloat32, 1e-4}}) {
    {
      INFO("dtype " << sfx);
      const GoldenFile gf(golden_path(std::string("gpt_") + sfx + ".bin"));
      auto model = load_golden_gpt(sfx, dtype);
      const Tensor tokens = gf.get("tokens"), targets = gf.get("targets");
      REQUIRE(tokens.dtype() == kInt64);

      require_close(model->forward(tokens), gf, "logits", tol);

      model->zero_grad();
      const Tensor loss = model->loss(tokens, targets);
      require_close(loss, gf, "loss", tol);
      backward(loss);
      for (const auto& [name, p] : model->named_parameters()) require_close(grad_of(p), gf, "grad." + name, tol);

      // wpe rows T..context-1 are never looked up: their gradient is exactly zero (as in torch)
      const Tensor gpos = grad_of(model->state().at("backbone.wpe.weight"));
      const int64_t T = tokens.size(1);
      const std::vector<double> unused = op::narrow(gpos, 0, T, gpos.size(0) - T).to_vector<double>();
      REQUIRE(!unused.empty());
      CHECK(std::all_of(unused.begin(), unused.end(), [](double x) { return x == 0.0; }));
    }
  }
}
