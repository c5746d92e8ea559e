// Matrix products on the device (ops_cuda/gemm.h): cuBLAS, row-major by swapping operands.
#include <atomic>
#include <climits>
#include <type_traits>

#include "ops_cuda/check.h"
#include "ops_cuda/context.h"
#include "ops_cuda/gemm.h"
#include "ops_cuda/kernels.cuh"

namespace gs::cuda {
namespace {

std::atomic<bool> g_tf32{false};

constexpr const char* kOp = "matmul";

// The handle is shared; its math mode follows the switch at every call (a host-side setting).
cublasHandle_t handle_for_call() {
  cublasHandle_t h = detail::cublas(kOp);
  GS_CUBLAS_CHECK(kOp, cublasSetMathMode(h, g_tf32.load() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  return h;
}

bool fits_int(std::initializer_list<int64_t> v) {
  for (int64_t x : v)
    if (x > INT_MAX || x < INT_MIN) return false;
  return true;
}

cublasOperation_t op_of(bool trans) { return trans ? CUBLAS_OP_T : CUBLAS_OP_N; }

// C[M, N] (leading dim ldc) = alpha * op(A) op(B) + beta * C, row-major, one thread per entry of C,
// double accumulator (mirrors ops_cpu gemm_naive). Grid-stride over rows (y) and columns (x).
template <class T>
__global__ void gemm_naive_kernel(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                                  const T* __restrict__ A, int64_t lda, const T* __restrict__ B, int64_t ldb, T beta,
                                  T* __restrict__ C, int64_t ldc) {
  for (int64_t i = blockIdx.y * int64_t{blockDim.y} + threadIdx.y; i < M; i += int64_t{gridDim.y} * blockDim.y)
    for (int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; j < N; j += int64_t{gridDim.x} * blockDim.x) {
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

}  // namespace

bool allow_tf32(bool allow) { return g_tf32.exchange(allow); }
bool tf32_allowed() { return g_tf32.load(); }

// Row-major C = op(A) op(B) is, read column-major, C^T = op(B)^T op(A)^T: cuBLAS gets the
// operands swapped (B first), the dims swapped (N, M), and the same transpose flags.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
          const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  cublasHandle_t h = handle_for_call();
  // cuBLAS ignores A and B when K == 0 but still demands leading dimensions >= 1.
  const int64_t la = lda > 0 ? lda : 1, lb = ldb > 0 ? ldb : 1;
  const cublasOperation_t ta = op_of(trans_a), tb = op_of(trans_b);
  if (fits_int({M, N, K, la, lb, ldc})) {
    const int m = static_cast<int>(N), n = static_cast<int>(M), k = static_cast<int>(K);
    if constexpr (std::is_same_v<T, float>)
      GS_CUBLAS_CHECK(kOp, cublasSgemm(h, tb, ta, m, n, k, &alpha, B, (int)lb, A, (int)la, &beta, C, (int)ldc));
    else
      GS_CUBLAS_CHECK(kOp, cublasDgemm(h, tb, ta, m, n, k, &alpha, B, (int)lb, A, (int)la, &beta, C, (int)ldc));
  } else {
    if constexpr (std::is_same_v<T, float>)
      GS_CUBLAS_CHECK(kOp, cublasSgemm_64(h, tb, ta, N, M, K, &alpha, B, lb, A, la, &beta, C, ldc));
    else
      GS_CUBLAS_CHECK(kOp, cublasDgemm_64(h, tb, ta, N, M, K, &alpha, B, lb, A, la, &beta, C, ldc));
  }
}

template <class T>
void gemm_naive(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  cudaStream_t st = detail::stream(kOp);
  const dim3 block(16, 16);
  const dim3 grid(static_cast<unsigned>(N < 16 * 4096 ? (N + 15) / 16 : 4096),
                  static_cast<unsigned>(M < 16 * 4096 ? (M + 15) / 16 : 4096));
  gemm_naive_kernel<T><<<grid, block, 0, st>>>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  GS_CUDA_CHECK_LAUNCH(kOp, "gemm_naive_kernel");
}

template <class T>
void gemm_batched(int64_t batch, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                  const T* A, int64_t lda, int64_t stride_a, const T* B, int64_t ldb, int64_t stride_b, T beta,
                  T* C, int64_t ldc, int64_t stride_c) {
  if (batch == 0 || M == 0 || N == 0) return;
  if (batch == 1) {
    gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  cublasHandle_t h = handle_for_call();
  const int64_t la = lda > 0 ? lda : 1, lb = ldb > 0 ? ldb : 1;
  const cublasOperation_t ta = op_of(trans_a), tb = op_of(trans_b);
  const long long sa = stride_a, sb = stride_b, sc = stride_c;
  if (fits_int({M, N, K, la, lb, ldc, batch})) {
    const int m = static_cast<int>(N), n = static_cast<int>(M), k = static_cast<int>(K), nb = static_cast<int>(batch);
    if constexpr (std::is_same_v<T, float>)
      GS_CUBLAS_CHECK(kOp, cublasSgemmStridedBatched(h, tb, ta, m, n, k, &alpha, B, (int)lb, sb, A, (int)la, sa, &beta,
                                                     C, (int)ldc, sc, nb));
    else
      GS_CUBLAS_CHECK(kOp, cublasDgemmStridedBatched(h, tb, ta, m, n, k, &alpha, B, (int)lb, sb, A, (int)la, sa, &beta,
                                                     C, (int)ldc, sc, nb));
  } else {
    if constexpr (std::is_same_v<T, float>)
      GS_CUBLAS_CHECK(kOp, cublasSgemmStridedBatched_64(h, tb, ta, N, M, K, &alpha, B, lb, sb, A, la, sa, &beta, C,
                                                        ldc, sc, batch));
    else
      GS_CUBLAS_CHECK(kOp, cublasDgemmStridedBatched_64(h, tb, ta, N, M, K, &alpha, B, lb, sb, A, la, sa, &beta, C,
                                                        ldc, sc, batch));
  }
}

GS_GEMM_INSTANTIATE

}  // namespace gs::cuda
