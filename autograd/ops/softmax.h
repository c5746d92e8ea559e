#pragma once
// Differentiable softmax and log-softmax over the last axis (stable; an all -inf row gives NaN).
#include "tensor/tensor.h"

namespace gs {

Tensor softmax(const Tensor& x);
Tensor log_softmax(const Tensor& x);

}  // namespace gs
