#pragma once
// Dense linear algebra on LAPACK (LAPACKE, column-major calls on private float64 copies) for the
// analysis layer: an orthonormal basis of a matrix's column space with its numerical rank,
// singular values of small dense matrices, eigenvalues of a symmetric float64 matrix (the Gram
// matrices of the exact spectrum), and a float64-accumulated row norm used by the chunked passes
// over the logit gradient.
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

// All n eigenvalues of the symmetric A [n, n] (float64, row stride lda >= n), descending, into w:
// dsyevd without vectors (Householder tridiagonalisation, ~4/3 n^3 flops, then root-free QR on
// the tridiagonal). Only the upper triangle A[i, j], i <= j, is read (row-major storage read
// column-major is A^T: its lower triangle, 'L', is our upper one, so no transposition is needed).
// A is used in place and destroyed: the Gram matrices this is for reach 16384^2 doubles (2 GiB),
// where a private copy would double the peak.
// Returns 0, or -1000 - |info| (info > 0: the tridiagonal QR did not converge).
int64_t sym_eigenvalues(int64_t n, double* A, int64_t lda, double* w);

// The Gram update C [n, n] += A A^T (trans = false: A [n, k], row stride lda >= k) or A^T A
// (trans = true: A [k, n], lda >= n), float64, row-major C (ldc >= n): dsyrk on the upper
// triangle C[i, j], i <= j, only (half a gemm's flops); the strictly lower triangle is untouched.
void syrk_upper(bool trans, int64_t n, int64_t k, const double* A, int64_t lda, double* C, int64_t ldc);

// out[i] = sum_j X[i, j]^2 accumulated in double. X: [rows, cols] with row stride ld >= cols;
// out: [rows].
template <class T>
void row_sumsq(int64_t rows, int64_t cols, const T* X, int64_t ld, double* out);

}  // namespace gs::cpu
