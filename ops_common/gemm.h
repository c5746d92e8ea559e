#pragma once
// Contract of the matrix products shared by gs::cpu (OpenBLAS) and gs::cuda (cuBLAS) (ops_common/
// contract.h explains the list). The one matrix-product wrapper: the forward (Y = X W^T) and both
// backward products (dX = dY W, dW = dY^T X) all go through gemm(); row-major throughout.
//
// gemm          C[M, N] = alpha * op(A)[M, K] * op(B)[K, N] + beta * C[M, N]
//               op(A) = A (A stored [M, K], lda >= K) or A^T (A stored [K, M], lda >= M); same for B.
// gemm_naive    the same contract with a double accumulator, as plainly as the backend allows.
//               Reference for tests only.
// gemm_batched  batch independent products: C_b = alpha op(A_b) op(B_b) + beta C_b, with
//               A_b = A + b * stride_a (stride 0 broadcasts one matrix over the batch), likewise B, C.
// T: float, double. No product of the stub runs: all three name "matmul" in its message.
#include <cstdint>

#include "ops_common/contract.h"

#define GS_GEMM_KERNELS_OF(X, T)                                                                          \
  X((class T), void, gemm, "matmul",                                                                     \
    (bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,      \
     const T* B, int64_t ldb, T beta, T* C, int64_t ldc))                                                 \
  X((class T), void, gemm_naive, "matmul",                                                               \
    (bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,      \
     const T* B, int64_t ldb, T beta, T* C, int64_t ldc))                                                 \
  X((class T), void, gemm_batched, "matmul",                                                             \
    (int64_t batch, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,     \
     int64_t lda, int64_t stride_a, const T* B, int64_t ldb, int64_t stride_b, T beta, T* C, int64_t ldc, \
     int64_t stride_c))

#define GS_GEMM_KERNELS(X) GS_GEMM_KERNELS_OF(X, T)
#define GS_GEMM_INSTANTIATE_FOR(T) GS_GEMM_KERNELS_OF(GS_KERNEL_INSTANTIATE, T)
#define GS_GEMM_INSTANTIATE GS_FLOAT_TYPES(GS_GEMM_INSTANTIATE_FOR)
