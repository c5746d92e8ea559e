#pragma once
// Pre-norm Transformer (GPT-2 layout) as a Backbone:
//
//   x = wte(tokens) + wpe(0..T-1)                  [B, T, D]   (T <= context)
//   for each block "blocks.<i>":
//     x = x + attn(ln1(x))                          "<block>.resid_attn"
//     x = x + mlp(ln2(x))                           "<block>"
//   hidden = ln_f(x)                                [B, T, D]
//
// Parameter names: wte.weight, wpe.weight, blocks.<i>.{ln1,attn.{q,k,v,proj},ln2,mlp.{fc1,fc2}}.*,
// ln_f.{weight,bias}.
#include <cstdint>
#include <memory>

#include "nn/attention.h"
#include "nn/backbone.h"
#include "nn/layers.h"

namespace gs::nn {

class Block : public Module {
 public:
  // mlp_hidden: width of the MLP (GPT: 4 * d_model).
  Block(int64_t d_model, int64_t n_head, int64_t mlp_hidden, Generator& gen, DType dtype = kFloat32);
  Tensor forward(const Tensor& x) const;  // [B, T, D] -> [B, T, D]

  std::shared_ptr<LayerNorm> ln1, ln2;
  std::shared_ptr<CausalSelfAttention> attn;
  std::shared_ptr<MLP> mlp;
};

class Transformer : public Backbone {
 public:
  explicit Transformer(const BackboneConfig& cfg, Generator& gen);
  Tensor forward(const Tensor& tokens) const override;
  int64_t d_model() const override { return cfg_.d_model; }
  int64_t vocab() const override { return cfg_.vocab; }
  int64_t context() const { return cfg_.context; }
  int64_t max_seq_len() const override { return cfg_.context; }  // wpe has context rows
  std::string first_layer_node() const override { return blocks->size() ? (*blocks)[0]->path() : std::string(); }
  std::string kind() const override { return "transformer"; }
  Tensor token_embedding() const override { return wte->weight; }

  std::shared_ptr<Embedding> wte, wpe;
  std::shared_ptr<ModuleList<Block>> blocks;
  std::shared_ptr<LayerNorm> ln_f;

 private:
  BackboneConfig cfg_;
};

}  // namespace gs::nn
