#pragma once
// GRU backbone: token embedding, then n_layer GRU layers unrolled over T (PyTorch's equations
// and gate order r, z, n), then an optional LayerNorm:
//
//   x_t = wte(tokens)[:, t]                                   [B, D]
//   per layer "layers.<i>", h_0 = 0:
//     [i_r, i_z, i_n] = ih(x_t)       (Linear D -> 3D, bias; all T steps in one matmul)
//     [h_r, h_z, h_n] = hh(h_{t-1})   (Linear D -> 3D, bias)
//     r_t = sigmoid(i_r + h_r)
//     z_t = sigmoid(i_z + h_z)
//     n_t = tanh(i_n + r_t * h_n)
//     h_t = (1 - z_t) * n_t + z_t * h_{t-1}  = n_t + z_t * (h_{t-1} - n_t)
//     the layer's outputs h_1..h_T [B, T, D] feed the next layer
//   hidden = ln_f(h) when cfg.final_norm, else h
#include <cstdint>
#include <memory>

#include "nn/backbone.h"
#include "nn/layers.h"

namespace gs::nn {

class GRULayer : public Module {
 public:
  GRULayer(int64_t d_in, int64_t d_hidden, Generator& gen, DType dtype = kFloat32);
  Tensor forward(const Tensor& x) const;  // [B, T, d_in] -> [B, T, d_hidden]

  std::shared_ptr<Linear> ih, hh;
  int64_t d_hidden;
};

class GRU : public Backbone {
 public:
  GRU(const BackboneConfig& cfg, Generator& gen);
  Tensor forward(const Tensor& tokens) const override;
  int64_t d_model() const override { return cfg_.d_model; }
  int64_t vocab() const override { return cfg_.vocab; }
  std::string kind() const override { return "gru"; }
  std::string first_layer_node() const override { return layers->size() ? (*layers)[0]->path() : std::string(); }
  Tensor token_embedding() const override { return wte->weight; }

  std::shared_ptr<Embedding> wte;
  std::shared_ptr<ModuleList<GRULayer>> layers;
  std::shared_ptr<LayerNorm> ln_f;  // null when cfg.final_norm is false

 private:
  BackboneConfig cfg_;
};

}  // namespace gs::nn
