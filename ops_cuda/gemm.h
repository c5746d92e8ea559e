#pragma once
// CUDA mirror of ops_cpu/gemm.h (cuBLAS; device pointers). TF32 off unless allow_tf32(true).
// The one matrix-product wrapper. Forward (Y = X W^T), and both backward products
// (dX = dY W, dW = dY^T X) all go through gemm(); row-major throughout.
#include <cstdint>

namespace gs::cuda {

// C[M, N] = alpha * op(A)[M, K] * op(B)[K, N] + beta * C[M, N]
// op(A) = A (A stored [M, K], lda >= K) or A^T (A stored [K, M], lda >= M); same for B.
// T: float (cublasSgemm) or double (cublasDgemm).
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// Same contract, one thread per C entry with a double accumulator. Reference for tests only.
template <class T>
void gemm_naive(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// batch independent products: C_b = alpha op(A_b) op(B_b) + beta C_b, with A_b = A + b*stride_a
// (stride 0 broadcasts one matrix over the batch), likewise B and C.
template <class T>
void gemm_batched(int64_t batch, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                  const T* A, int64_t lda, int64_t stride_a, const T* B, int64_t ldb, int64_t stride_b,
                  T beta, T* C, int64_t ldc, int64_t stride_c);

// float32 products may use TF32 tensor cores (10-bit mantissa inputs) when allowed. Off by
// default: results then match the CPU to float32 rounding. Process-wide; returns the old value.
bool allow_tf32(bool allow);
bool tf32_allowed();

}  // namespace gs::cuda
