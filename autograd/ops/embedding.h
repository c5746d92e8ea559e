#pragma once
// Differentiable embedding lookup: weight [V, D], idx int64 of any shape -> [idx..., D].
// The gradient reaches weight only (repeated indices accumulate).
#include "tensor/tensor.h"

namespace gs {

Tensor embedding(const Tensor& weight, const Tensor& idx);

}  // namespace gs
