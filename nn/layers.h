#pragma once
// Basic layers. Each forward runs inside a NameScope of the module's path and names its output
// node after the module, so a trace shows "blocks.0.mlp.fc1", not "add".
#include <cstdint>
#include <memory>

#include "nn/module.h"
#include "tensor/random.h"

namespace gs::nn {

// y = x W^T + b. x [..., in] -> [..., out]; W [out, in] (kaiming-uniform like PyTorch), b [out].
class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, Generator& gen, bool bias = true, DType dtype = kFloat32);
  Tensor forward(const Tensor& x) const;
  Tensor weight, bias;  // bias undefined when bias = false
  int64_t in_features, out_features;
};

// Row lookup: idx (int64, any shape) -> [idx..., D]; weight [V, D] ~ N(0, std).
class Embedding : public Module {
 public:
  Embedding(int64_t vocab, int64_t dim, Generator& gen, double std = 0.02, DType dtype = kFloat32);
  Tensor forward(const Tensor& idx) const;
  Tensor weight;
};

class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t dim, double eps = 1e-5, DType dtype = kFloat32);
  Tensor forward(const Tensor& x) const;
  Tensor weight, bias;
  double eps;
};

class RMSNorm : public Module {
 public:
  explicit RMSNorm(int64_t dim, double eps = 1e-6, DType dtype = kFloat32);
  Tensor forward(const Tensor& x) const;
  Tensor weight;
  double eps;
};

// Inverted dropout: zeroes each element with probability p in training and scales the rest by
// 1 / (1 - p); the identity in eval mode. Masks come from the module's own seeded generator.
class Dropout : public Module {
 public:
  explicit Dropout(double p, uint64_t seed = 0);
  Tensor forward(const Tensor& x);
  double p;
  Generator gen;
};

// fc2(gelu(fc1(x))): [..., D] -> [..., D] through a hidden width (default 4 D).
class MLP : public Module {
 public:
  MLP(int64_t dim, int64_t hidden, Generator& gen, DType dtype = kFloat32);
  Tensor forward(const Tensor& x) const;
  std::shared_ptr<Linear> fc1, fc2;
};

}  // namespace gs::nn
