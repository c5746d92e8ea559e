#pragma once
// Dense linear algebra for the analysis layer: LAPACK factorisations (ops_cpu/linalg_lapack.h,
// float64 internally whatever the dtype) and two helpers for chunked passes over large matrices
// (an in-place accumulating product and float64 row norms). No graph.
//
// CUDA tensors stay on the device: the factorisations run on cuSOLVER (ops_cuda/linalg_lapack.h,
// the same steps in float64), addmm_ uses cuBLAS, and row_sumsq runs a device kernel (float64
// accumulation, one block per row) and returns a device tensor. Only small results (rank,
// singular values, coeffs) come back to the host.
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace gs::op {

struct OrthonormalBasis {
  Tensor Q;        // [m, rank], A's dtype and device: orthonormal columns spanning col(A)
  Tensor coeffs;   // [rank, n] float64 on the CPU: Q^T A, so that A ~= Q coeffs
  int64_t rank = 0;
  double rel_tol = 0;                   // rank = #{ sigma_i > rel_tol * sigma_max }
  std::vector<double> singular_values;  // all min(m, n) singular values of A, descending
};

// Orthonormal basis of the column space of A [m, n] and its numerical rank: Householder QR of A,
// then an SVD of the small triangular factor (ops_cpu/linalg_lapack.h). rel_tol < 0 picks
// max(m, n) * 2^-52 (NumPy's matrix_rank default, relative to sigma_max); A's entries are taken
// as exact (float32 values are widened, not treated as noisy).
// Errors: "orthonormal_basis: expected a 2-d matrix, got [..]", "...: expected a floating-point
// matrix, got int64", "...: A [..] has NaN or Inf entries" (checked before factorising),
// "...: LAPACK failed (code ..)" ("cuSOLVER failed" for a CUDA tensor).
OrthonormalBasis orthonormal_basis(const Tensor& A, double rel_tol = -1);

// All min(m, n) singular values of A [m, n], descending (float64 dgesdd on the CPU, gesvd on
// cuSOLVER; no vectors). Meant for small matrices: it makes one m x n float64 copy. Errors as
// for orthonormal_basis.
std::vector<double> svd_values(const Tensor& A);

// [m, n] -> float64 [m]: sum of squares of each row, accumulated in double.
Tensor row_sumsq(const Tensor& X);

// C <- alpha op(A) op(B) + beta C in place through the one gemm wrapper. C: contiguous [M, N];
// op(A) [M, K] (A stored [K, M] when trans_a), op(B) [K, N]; one dtype and device for all three.
// Used to accumulate a product over chunks without a temporary the size of C.
void addmm_(const Tensor& C, const Tensor& A, const Tensor& B, bool trans_a, bool trans_b, double alpha = 1,
            double beta = 1);

}  // namespace gs::op
