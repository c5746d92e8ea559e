// Embedding: gather forward, deterministic scatter-add vjp.
#include "autograd/ops/embedding.h"

#include "autograd/function.h"
#include "tensor/embedding.h"

namespace gs {

Tensor embedding(const Tensor& weight, const Tensor& idx) {
  Tensor y = op::embedding(weight, idx);
  return record("embedding", y, {weight, idx}, [idx = saved(idx), V = weight.shape()[0]](const Tensor& g) {
    return grads(op::embedding_backward(g, idx, V), Tensor());
  });
}

}  // namespace gs
