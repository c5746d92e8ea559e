#pragma once
// Causal multi-head self-attention, written as a plain composite of differentiable ops (no fused
// kernel), so every intermediate is a named node a trace or a hook can see:
//
//   x [B, T, D] -> q, k, v = Linear "q"/"k"/"v"(x)              [B, T, D]
//              -> reshape [B, T, H, dh] -> permute [B, H, T, dh] (dh = D / H)
//   scores = q @ k^T / sqrt(dh)                                   [B, H, T, T]  "<path>.scores"
//   masked = masked_fill(scores, j > i, -inf)                     "<path>.masked"
//   probs  = softmax(masked) over j                               "<path>.probs"
//   y      = probs @ v -> permute [B, T, H, dh] -> reshape [B, T, D]  "<path>.merge"
//   out    = Linear "proj"(y)                                     "<path>.proj"
//
// The causal mask ([T, T] float, 1 where j > i) is built once per T and cached (not a buffer:
// it is not state and never enters a checkpoint).
#include <cstdint>
#include <map>
#include <memory>

#include "nn/layers.h"
#include "nn/module.h"

namespace gs::nn {

class CausalSelfAttention : public Module {
 public:
  CausalSelfAttention(int64_t d_model, int64_t n_head, Generator& gen, DType dtype = kFloat32, bool bias = true);
  Tensor forward(const Tensor& x) const;  // [B, T, D] -> [B, T, D]
  // The [T, T] mask of this module's dtype: 1 where key j > query i (masked), 0 elsewhere.
  Tensor causal_mask(int64_t T) const;

  std::shared_ptr<Linear> q, k, v, proj;
  int64_t d_model, n_head, head_dim;

 private:
  DType dtype_;
  mutable std::map<int64_t, Tensor> masks_;
};

}  // namespace gs::nn
