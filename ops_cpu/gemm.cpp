#include "ops_cpu/gemm.h"

#include <cblas.h>

#include <stdexcept>
#include <string>
#include <type_traits>

#ifdef GRADSCOPE_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#endif

#include "ops_cpu/gemm_backend.h"
#include "ops_cpu/threads.h"

namespace gs::cpu {
namespace {

#ifdef GRADSCOPE_HAVE_ONEDNN
// C[M, N] = alpha op(A) op(B) + beta C through oneDNN (row-major, like the contract). It threads
// with OpenMP, and runs on the calling thread alone inside an OpenMP parallel region. Returns
// oneDNN's status: callers inside a parallel region must not throw.
dnnl_status_t onednn_sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) noexcept {
  if (K == 0) {  // an empty sum: C = beta C (oneDNN refuses K = 0 as an invalid argument)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    return dnnl_success;
  }
  return dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void check_onednn(dnnl_status_t st, int64_t M, int64_t N, int64_t K) {
  if (st != dnnl_success)
    throw std::runtime_error("matmul: oneDNN sgemm failed (status " + std::to_string(int(st)) + ") for M=" +
                             std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K));
}

// A batch of small products (attention's per-head [T, T] x [T, dh]) threads badly one product at a
// time: below this many multiply-adds per product, the batch is spread over the OpenMP team instead,
// one whole product per thread (bench_matmul, "backends").
constexpr int64_t kSmallProductMacs = int64_t{1} << 22;
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
      return check_onednn(onednn_sgemm(trans_a, trans_b, M, N, K, alpha, A, la, B, lb, beta, C, ldc), M, N, K);
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
#ifdef GRADSCOPE_HAVE_ONEDNN
  if constexpr (std::is_same_v<T, float>) {
    if (gemm_backend() == GemmBackend::onednn && M > 0 && N > 0 && batch >= num_threads() && num_threads() > 1 &&
        M * N * K <= kSmallProductMacs) {
      const int64_t la = lda > 0 ? lda : 1, lb = ldb > 0 ? ldb : 1;
      int bad = 0;  // first failing status; exceptions must not leave the parallel region
#pragma omp parallel for schedule(static)
      for (int64_t b = 0; b < batch; ++b) {
        const dnnl_status_t st = onednn_sgemm(trans_a, trans_b, M, N, K, alpha, A + b * stride_a, la, B + b * stride_b,
                                              lb, beta, C + b * stride_c, ldc);
        if (st != dnnl_success) {
#pragma omp atomic write
          bad = int(st);
        }
      }
      return check_onednn(dnnl_status_t(bad), M, N, K);
    }
  }
#endif
  // Otherwise each product is threaded by its library; the batch loop stays serial so the
  // thread pools never nest.
  for (int64_t b = 0; b < batch; ++b)
    gemm(trans_a, trans_b, M, N, K, alpha, A + b * stride_a, lda, B + b * stride_b, ldb, beta,
         C + b * stride_c, ldc);
}

GS_GEMM_INSTANTIATE

}  // namespace gs::cpu
