#pragma once
// Embedding lookup and its scatter-add backward. No graph: see autograd/ops/embedding.h.
#include "tensor/tensor.h"

namespace gs::op {

// weight [V, D] floating, idx int64 of any shape with every entry in [0, V) -> [idx..., D].
// "embedding: index 12 out of range for 10 rows (position 3)" (position: row-major in idx).
Tensor embedding(const Tensor& weight, const Tensor& idx);
// grad [idx..., D], idx as in embedding() -> [V, D]: zeros with grad's rows added at their
// indices (repeated indices sum, in index order: deterministic).
Tensor embedding_backward(const Tensor& grad, const Tensor& idx, int64_t V);

}  // namespace gs::op
