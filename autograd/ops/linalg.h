#pragma once
#include "tensor/tensor.h"

namespace gs {

// a [..., M, K] @ b [..., K, N] -> [..., M, N] with broadcast batch dims.
// vjp: dA = dC B^T, dB = A^T dC (the same gemm wrapper, transposes passed as flags), summed
// over broadcast batch dims.
Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace gs
