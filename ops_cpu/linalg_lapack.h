#pragma once
// Dense linear algebra on LAPACK (LAPACKE, column-major calls on private float64 copies) for the
// analysis layer: an orthonormal basis of a matrix's column space with its numerical rank,
// singular values of small dense matrices, and a float64-accumulated row norm used by the
// chunked passes over the logit gradient.
//
// Inputs are row-major as everywhere in ops_cpu; every factorisation runs in float64 whatever T
// is (T: float or double, explicitly instantiated). Kernels cannot throw gs::Error: a LAPACK
// failure is returned as a negative number (-1000 - |info|) and the tensor layer reports it.
#include <cstdint>

namespace gs::cpu {

// Orthonormal basis of the column space of A [m, n] (row-major, lda = n), with k = min(m, n).
//   1. Householder QR of A in float64: A = Q1 R, Q1 [m, k], R [k, n] (dgeqrf, dorgqr);
//   2. SVD of the small R = U S V^T (dgesdd): the singular values of A are those of R;
//   3. rank r = #{ s_i > rel_tol * s_0 } (0 when s_0 == 0);
//   4. r == k: Q = Q1, coeffs = R; r < k: Q = Q1 U[:, :r], coeffs = S_r V^T[:r, :].
// Either way Q has orthonormal columns spanning the numerical column space and A ~= Q coeffs
// (exactly, up to rounding, when r == k; up to the dropped singular values otherwise).
// Outputs: Q: buffer of m * k elements; on return its first m * r hold Q as a row-major [m, r]
// matrix. coeffs: buffer of k * n doubles; first r * n hold coeffs row-major [r, n].
// sv: [k] doubles, the singular values of A, descending.
// Returns r >= 0, or -1000 - |info| when LAPACK reports an error.
// Memory: one m x n float64 copy of A plus O(k * n) small buffers.
template <class T>
int64_t orthonormal_basis(int64_t m, int64_t n, const T* A, double rel_tol, T* Q, double* coeffs, double* sv);

// All min(m, n) singular values of A [m, n] (row-major, row stride lda >= n), descending, into s
// (dgesdd without vectors on a float64 copy). Returns 0, or -1000 - |info|.
template <class T>
int64_t svd_values(int64_t m, int64_t n, const T* A, int64_t lda, double* s);

// out[i] = sum_j X[i, j]^2 accumulated in double. X: [rows, cols] with row stride ld >= cols;
// out: [rows].
template <class T>
void row_sumsq(int64_t rows, int64_t cols, const T* X, int64_t ld, double* out);

}  // namespace gs::cpu
