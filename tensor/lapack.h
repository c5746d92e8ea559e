#pragma once
// Dense linear algebra for the analysis layer: LAPACK factorizations (ops_cpu/linalg_lapack.h,
// float64 internally whatever the dtype), symmetric eigenvalues, and two helpers for chunked passes over large matrices
// (an in-place accumulating product and float64 row norms). No graph.
//
// CUDA tensors stay on the device (except in sym_eigenvalues, below): the factorizations run on cuSOLVER (ops_cuda/linalg_lapack.h,
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
// matrix, got int64", "...: A [..] has NaN or Inf entries" (checked before factorizing),
// "...: LAPACK failed (code ..)" ("cuSOLVER failed" for a CUDA tensor).
OrthonormalBasis orthonormal_basis(const Tensor& A, double rel_tol = -1);

// All min(m, n) singular values of A [m, n], descending (float64 dgesdd on the CPU, gesvd on
// cuSOLVER; no vectors). Meant for small matrices: it makes one m x n float64 copy. Errors as
// for orthonormal_basis.
std::vector<double> svd_values(const Tensor& A);

// All n eigenvalues of the symmetric A [n, n], descending (float64 dsyevd on the host, no
// vectors; float32 input is widened). Meant for Gram matrices (the exact spectrum of the logit
// gradient: G G^T or G^T G) and other small symmetric matrices. A CUDA tensor is copied to the
// host and factorized there: these matrices are small next to the products that made them, and
// LAPACK on the host keeps one code path (no cuSOLVER call). Only the upper triangle A[i, j],
// i <= j, is read: A stands for the symmetric matrix with that upper triangle (what syrk_ fills). sym_eigenvalues leaves A untouched
// (one n x n float64 copy); sym_eigenvalues_ works in place when A is a contiguous float64 CPU
// tensor and leaves its contents unspecified (no copy: the Gram at n = 16384 is 2 GiB).
// Errors: "sym_eigenvalues: expected a square matrix, got [..]", "...: expected a
// floating-point matrix, got int64", "...: A [..] has NaN or Inf entries", "...: LAPACK failed
// (code ..)".
std::vector<double> sym_eigenvalues(const Tensor& A);
std::vector<double> sym_eigenvalues_(const Tensor& A);

// The Gram update C [n, n] += A A^T (trans = false, A [n, k]) or A^T A (trans = true, A [k, n]),
// all float64 on one device, C contiguous: how a chunked pass accumulates G G^T or G^T G. CPU:
// dsyrk on the upper triangle only (half a gemm's flops; the strictly lower triangle is left as
// it was). CUDA: the full product through the gemm wrapper (both triangles). Either way the upper
// triangle is the one sym_eigenvalues reads.
// Errors: "syrk_: C must be a contiguous float64 [n, n] matrix, got ...", "syrk_: A [..] does
// not give C [..]", "syrk_: operands on different devices".
void syrk_(const Tensor& C, const Tensor& A, bool trans);

// [m, n] -> float64 [m]: sum of squares of each row, accumulated in double.
Tensor row_sumsq(const Tensor& X);

// C <- alpha op(A) op(B) + beta C in place through the one gemm wrapper. C: contiguous [M, N];
// op(A) [M, K] (A stored [K, M] when trans_a), op(B) [K, N]; one dtype and device for all three.
// Used to accumulate a product over chunks without a temporary the size of C.
void addmm_(const Tensor& C, const Tensor& A, const Tensor& B, bool trans_a, bool trans_b, double alpha = 1,
            double beta = 1);

}  // namespace gs::op
