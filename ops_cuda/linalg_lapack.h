#pragma once
// CUDA mirror of ops_cpu/linalg_lapack.h (device pointers), on cuSOLVER (geqrf / orgqr / gesvd
// in float64) in linalg_lapack.cu; a build without CUDA links the stubs in
// ops_cuda/stub/linalg_lapack.cpp. tensor/lapack.cpp calls these for CUDA tensors. Contracts as in
// ops_cpu/linalg_lapack.h, with every pointer on the device (Q, coeffs and sv included).
#include <cstdint>

namespace gs::cuda {

template <class T>
int64_t orthonormal_basis(int64_t m, int64_t n, const T* A, double rel_tol, T* Q, double* coeffs, double* sv);

template <class T>
int64_t svd_values(int64_t m, int64_t n, const T* A, int64_t lda, double* s);

template <class T>
void row_sumsq(int64_t rows, int64_t cols, const T* X, int64_t ld, double* out);

}  // namespace gs::cuda
