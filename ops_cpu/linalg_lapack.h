#pragma once
// Dense linear algebra on LAPACK (LAPACKE, column-major calls on private float64 copies) for the
// analysis layer. Shared with the CUDA backend (contract: ops_common/linalg_lapack.h): an
// orthonormal basis of a matrix's column space with its numerical rank (dgeqrf, dorgqr, dgesdd),
// singular values of small dense matrices (dgesdd), and a float64-accumulated row norm used by the
// chunked passes over the logit gradient. CPU only: eigenvalues of a symmetric float64 matrix (the
// Gram matrices of the exact spectrum) and the Gram update that builds them.
//
// Inputs are row-major as everywhere in ops_cpu; kernels cannot throw gs::Error: a LAPACK failure
// is returned as a negative number (-1000 - |info|) and the tensor layer reports it.
#include <cstdint>

#include "ops_common/linalg_lapack.h"

namespace gs::cpu {

GS_LINALG_LAPACK_KERNELS(GS_KERNEL_DECLARE)

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

}  // namespace gs::cpu
