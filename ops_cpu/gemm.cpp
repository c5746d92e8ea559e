#include "ops_cpu/gemm.h"

#include <cblas.h>

#include <stdexcept>
#include <string>
#include <type_traits>

#ifdef GRADSCOPE_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#endif

#include "ops_cpu/gemm_backend.h"

namespace gs::cpu {
namespace {

#ifdef GRADSCOPE_HAVE_ONEDNN
// C[M, N] = alpha op(A) op(B) + beta C through oneDNN (row-major, like the contract). It threads
// with OpenMP, and runs on the calling thread alone inside an OpenMP parallel region.
void onednn_sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                  int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (K == 0) {  // an empty sum: C = beta C (oneDNN refuses K = 0 as an invalid argument)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    return;
  }
  const dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb,
                                      beta, C, ldc);
  if (st != dnnl_success)
    throw std::runtime_error("matmul: oneDNN sgemm failed (status " + std::to_string(int(st)) + ") for M=" +
                             std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K));
}
#endif

}  // namespace

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  const auto ta = trans_a ? CblasTrans : CblasNoTrans;
  const auto tb = trans_b ? CblasTrans : CblasNoTrans;
  // BLAS ignores A and B when K == 0 but still demands valid leading dimensions.
  const int64_t la = lda > 0 ? lda : 1, lb = ldb > 0 ? ldb : 1;
  if constexpr (std::is_same_v<T, float>) {
#ifdef GRADSCOPE_HAVE_ONEDNN
    if (gemm_backend() == GemmBackend::onednn)
      return onednn_sgemm(trans_a, trans_b, M, N, K, alpha, A, la, B, lb, beta, C, ldc);
#endif
    cblas_sgemm(CblasRowMajor, ta, tb, (blasint)M, (blasint)N, (blasint)K, alpha, A, (blasint)la, B,
                (blasint)lb, beta, C, (blasint)ldc);
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, (blasint)M, (blasint)N, (blasint)K, alpha, A, (blasint)la, B,
                (blasint)lb, beta, C, (blasint)ldc);
  }
}

template <class T>
void gemm_naive(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) {
        const T a = trans_a ? A[k * lda + i] : A[i * lda + k];
        const T b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        acc += static_cast<double>(a) * static_cast<double>(b);
      }
      T& c = C[i * ldc + j];
      c = static_cast<T>(alpha * acc + (beta == T(0) ? 0.0 : static_cast<double>(beta) * c));
    }
}

template <class T>
void gemm_batched(int64_t batch, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                  const T* A, int64_t lda, int64_t stride_a, const T* B, int64_t ldb, int64_t stride_b,
                  T beta, T* C, int64_t ldc, int64_t stride_c) {
  // Each product is threaded by OpenBLAS itself; the batch loop stays serial so the two
  // thread pools never nest.
  for (int64_t b = 0; b < batch; ++b)
    gemm(trans_a, trans_b, M, N, K, alpha, A + b * stride_a, lda, B + b * stride_b, ldb, beta,
         C + b * stride_c, ldc);
}

GS_GEMM_INSTANTIATE

}  // namespace gs::cpu
