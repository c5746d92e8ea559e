#pragma once
// Matrix products through the one gemm wrapper (ops_cpu/gemm.h, cuBLAS on CUDA).
#include "tensor/tensor.h"

namespace gs::op {

// a [..., M, K] @ b [..., K, N] -> [..., M, N]; batch dims broadcast (NumPy). 1-d operands are
// not promoted: both must be at least 2-d. Transposed views are passed to BLAS as transposes
// (no copy); any other non-contiguous layout is packed once.
// "matmul: shapes [4, 3] and [5, 2] do not align"
Tensor matmul(const Tensor& a, const Tensor& b);

// Same product with an explicit op: a^T and/or b^T taken on the last two dims, without
// materialising the transpose (used by vjps: dA = dC B^T, dB = A^T dC).
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b);

}  // namespace gs::op
