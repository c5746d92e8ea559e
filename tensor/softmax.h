#pragma once
// Softmax and log-softmax over the last axis. No graph: see autograd/ops/softmax.h for the
// differentiable versions. Numerics and edge rows as in ops_cpu/softmax.h: stable (max-shifted),
// and a row that is entirely -inf gives NaN (as PyTorch does), not zeros.
#include "tensor/tensor.h"

namespace gs::op {

// Any shape; the last axis is normalised (a 0-d tensor counts as one row of one element).
// float32 / float64. Output contiguous, same shape.
Tensor softmax(const Tensor& x);
Tensor log_softmax(const Tensor& x);

// Vector-Jacobian products from the forward output y (same shape as gy):
//   softmax:      gx = y * (gy - sum(gy * y, last axis))
//   log_softmax:  gx = gy - exp(y) * sum(gy, last axis)
Tensor softmax_backward(const Tensor& y, const Tensor& gy);
Tensor log_softmax_backward(const Tensor& y, const Tensor& gy);

}  // namespace gs::op
