#pragma once
// State-space style backbone: a diagonal gated linear recurrence with input-dependent gates
// (in the family of Mamba / GLA / HGRN), unrolled over T. Per channel the state is one number, so
// the recurrence is elementwise; everything that mixes channels is a Linear outside the loop.
//
//   x = wte(tokens)                                   [B, T, D]
//   per layer "layers.<i>" (pre-norm residual), h_0 = 0:
//     u_t = norm(x_t)                                 RMSNorm "norm"
//     a_t = sigmoid(W_a u_t + b_a)                    Linear "a"   (per-channel decay in (0, 1))
//     c_t = W_in u_t                                  Linear "in"  (no bias)
//     h_t = a_t * h_{t-1} + (1 - a_t) * c_t           the diagonal linear recurrence
//     y_t = W_out (h_t * silu(W_g u_t))               Linear "g", Linear "out" (no bias)
//     x_t = x_t + y_t
//   hidden = ln_f(x)                                  LayerNorm "ln_f"
//
// The projections run on all T steps at once; only the elementwise recurrence is unrolled.
// b_a starts at +1 (a_t near 0.73), so the initial state remembers a few steps back.
#include <cstdint>
#include <memory>

#include "nn/backbone.h"
#include "nn/layers.h"

namespace gs::nn {

class SSMLayer : public Module {
 public:
  SSMLayer(int64_t d_model, Generator& gen, DType dtype = kFloat32);
  Tensor forward(const Tensor& x) const;  // [B, T, D] -> [B, T, D] (includes the residual)

  std::shared_ptr<RMSNorm> norm;
  std::shared_ptr<Linear> a, in, g, out;
};

class SSM : public Backbone {
 public:
  SSM(const BackboneConfig& cfg, Generator& gen);
  Tensor forward(const Tensor& tokens) const override;
  int64_t d_model() const override { return cfg_.d_model; }
  int64_t vocab() const override { return cfg_.vocab; }
  std::string kind() const override { return "ssm"; }
  std::string first_layer_node() const override { return layers->size() ? (*layers)[0]->path() : std::string(); }
  Tensor token_embedding() const override { return wte->weight; }

  std::shared_ptr<Embedding> wte;
  std::shared_ptr<ModuleList<SSMLayer>> layers;
  std::shared_ptr<LayerNorm> ln_f;

 private:
  BackboneConfig cfg_;
};

}  // namespace gs::nn
