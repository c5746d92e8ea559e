// Embedding: gather forward, deterministic scatter-add vjp, gather jvp.
#include "autograd/ops/embedding.h"

#include "autograd/function.h"
#include "tensor/embedding.h"

namespace gs {

Tensor embedding(const Tensor& weight, const Tensor& idx) {
  Tensor y = op::embedding(weight, idx);
  return record(
      "embedding", y, {weight, idx},
      [idx = saved(idx), V = weight.shape()[0]](const Tensor& g) {
        return grads(op::embedding_backward(g, idx, V), Tensor());
      },
      // linear in the weight: the same rows of its tangent (the int64 indices have none)
      [&](const std::vector<Tensor>& t) { return t[0].defined() ? op::embedding(t[0], idx) : Tensor(); });
}

}  // namespace gs
