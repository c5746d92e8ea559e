#pragma once
// Heads beyond the paper's linear ones, built in so that `gradscope remedies`-style comparisons
// and the CLI (--head mos | mlp | sigsoftmax) can use them. None is linear in h (LMHead::linear()
// is false), so the analysis measures them with the per-token Jacobian metric; head_matrix() is
// the output matrix W [V, D] and head_input(h) = h, the linearisation a column-space analysis
// would take (kept beside the exact figure as column_space_destroyed_fraction).
//
//   MixtureOfSoftmaxesHead  Yang et al. 2018, "Breaking the Softmax Bottleneck": K components share
//                           W; p = sum_k pi_k softmax(tanh(P_k h + c_k) W^T), pi = softmax(G h);
//                           logits z = log p (so cross_entropy(z) = -log p(target)).
//                           Parameters: weight [V, D], gate.weight [K, D], proj<k>.weight [D, D],
//                           proj<k>.bias [D].
//   MlpHead                 a non-linear projection before the output matrix: z = gelu(P h + c) W^T
//                           (GELU, tanh form). Parameters: proj.weight [D, D], proj.bias [D], weight [V, D].
//   SigsoftmaxHead          Kanai et al. 2018, "Sigsoftmax: Reanalysis of the Softmax Bottleneck":
//                           p ∝ exp(u) sigmoid(u) with u = h W^T, i.e. logits z = u + log sigmoid(u).
//                           Chosen because it is the cheapest published remedy (no parameter beyond
//                           W, one elementwise function) and its Jacobian diag(1 + sigmoid(-u_t)) W
//                           changes column space with every token while W stays the same.
//                           Parameters: weight [V, D].
#include <memory>
#include <string>
#include <vector>

#include "nn/head.h"
#include "nn/layers.h"

namespace gs::nn {

// What the three share: the output matrix W [V, D] ("weight", registered by each head in its own
// parameter order) as head_matrix(), h itself as head_input(), and the sizes read off W.
class OutputMatrixHead : public LMHead {
 public:
  Tensor head_matrix() const override { return weight; }
  Tensor head_input(const Tensor& h) const override { return h; }
  int64_t vocab() const override { return weight.size(0); }
  int64_t d_model() const override { return weight.size(1); }
  int64_t rank() const override { return weight.size(1); }
  bool builtin() const override { return true; }

  Tensor weight;
};

class MixtureOfSoftmaxesHead : public OutputMatrixHead {
 public:
  MixtureOfSoftmaxesHead(int64_t d_model, int64_t vocab, int64_t components, Generator& gen, DType dtype = kFloat32);
  Tensor forward(const Tensor& h) const override;
  std::string kind() const override { return "mos"; }
  int64_t components() const { return static_cast<int64_t>(proj.size()); }

  std::shared_ptr<Linear> gate;
  std::vector<std::shared_ptr<Linear>> proj;
};

class MlpHead : public OutputMatrixHead {
 public:
  MlpHead(int64_t d_model, int64_t vocab, Generator& gen, DType dtype = kFloat32);
  Tensor forward(const Tensor& h) const override;
  std::string kind() const override { return "mlp"; }

  std::shared_ptr<Linear> proj;
};

class SigsoftmaxHead : public OutputMatrixHead {
 public:
  SigsoftmaxHead(int64_t d_model, int64_t vocab, Generator& gen, DType dtype = kFloat32);
  Tensor forward(const Tensor& h) const override;
  std::string kind() const override { return "sigsoftmax"; }
};

}  // namespace gs::nn
