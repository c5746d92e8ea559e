#pragma once
// Contract of the dense linear algebra shared by gs::cpu (LAPACKE) and gs::cuda (cuSOLVER) for the
// analysis layer (ops_common/contract.h explains the list). Inputs are row-major; every
// factorization runs in float64 whatever T is (T: float or double). Kernels cannot throw gs::Error:
// a LAPACK / cuSOLVER failure is returned as a negative number (-1000 - |info|) and the tensor
// layer reports it. On gs::cuda every pointer is a device pointer (Q, coeffs and sv included).
//
// orthonormal_basis  An orthonormal basis of the column space of A [m, n] (row-major, lda = n),
//                    with k = min(m, n):
//                      1. Householder QR of A in float64: A = Q1 R, Q1 [m, k], R [k, n];
//                      2. SVD of the small R = U S V^T: the singular values of A are those of R;
//                      3. rank r = #{ s_i > rel_tol * s_0 } (0 when s_0 == 0);
//                      4. r == k: Q = Q1, coeffs = R; r < k: Q = Q1 U[:, :r], coeffs = S_r V^T[:r, :].
//                    Either way Q has orthonormal columns spanning the numerical column space and
//                    A ~= Q coeffs (exactly, up to rounding, when r == k; up to the dropped singular
//                    values otherwise).
//                    Outputs: Q: buffer of m * k elements; on return its first m * r hold Q as a
//                    row-major [m, r] matrix. coeffs: buffer of k * n doubles; first r * n hold
//                    coeffs row-major [r, n]. sv: [k] doubles, the singular values of A, descending.
//                    Returns r >= 0, or -1000 - |info| when the solver reports an error.
//                    Memory: one m x n float64 copy of A plus O(k * n) small buffers.
// svd_values         All min(m, n) singular values of A [m, n] (row-major, row stride lda >= n),
//                    descending, into s (float64 SVD without vectors on a float64 copy).
//                    Returns 0, or -1000 - |info|.
// row_sumsq          out[i] = sum_j X[i, j]^2 accumulated in double. X: [rows, cols] with row
//                    stride ld >= cols; out: [rows].
#include <cstdint>

#include "ops_common/contract.h"

// The list's macro parameter is ENTRY, not X: row_sumsq has a parameter named X.

#define GS_LINALG_LAPACK_KERNELS_OF(ENTRY, T)                                                               \
  ENTRY((class T), int64_t, orthonormal_basis, "orthonormal_basis",                                          \
    (int64_t m, int64_t n, const T* A, double rel_tol, T* Q, double* coeffs, double* sv))                 \
  ENTRY((class T), int64_t, svd_values, "svd_values", (int64_t m, int64_t n, const T* A, int64_t lda, double* s)) \
  ENTRY((class T), void, row_sumsq, "row_sumsq", (int64_t rows, int64_t cols, const T* X, int64_t ld, double* out))

#define GS_LINALG_LAPACK_KERNELS(X) GS_LINALG_LAPACK_KERNELS_OF(X, T)
#define GS_LINALG_LAPACK_INSTANTIATE_FOR(T) GS_LINALG_LAPACK_KERNELS_OF(GS_KERNEL_INSTANTIATE, T)
#define GS_LINALG_LAPACK_INSTANTIATE GS_FLOAT_TYPES(GS_LINALG_LAPACK_INSTANTIATE_FOR)
