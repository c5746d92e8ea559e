// Softmax / log-softmax over the last axis on the device (ops_cuda/softmax.h; contracts and edge
// rows in ops_common/softmax.h). One block per row; the row max and the sums are fixed trees over
// the block (deterministic), sums in double. No __restrict__: outputs may alias inputs, which is
// safe because every read of a row finishes (block barrier) before the first write, and each
// thread then writes only the entries it reads.
#include "ops_cuda/check.h"
#include "ops_cuda/context.h"
#include "ops_cuda/kernels.cuh"
#include "ops_cuda/softmax.h"

namespace gs::cuda {
namespace {

template <class T>
__device__ T row_max(int64_t cols, const T* xr) {
  T m = detail::d_neg_inf<T>();
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) m = xr[j] > m ? xr[j] : m;
  return detail::block_reduce(m, detail::MaxOp{});
}

// x, y: [rows, cols]. y[r, j] = exp(x[r, j] - m_r) / sum_k exp(x[r, k] - m_r).
template <class T>
__global__ void softmax_kernel(int64_t rows, int64_t cols, const T* x, T* y) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    const T m = row_max(cols, xr);
    double s = 0;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) s += static_cast<double>(detail::d_exp(xr[j] - m));
    s = detail::block_reduce(s, detail::SumOp{});
    const T inv = static_cast<T>(1.0 / s);
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) yr[j] = detail::d_exp(xr[j] - m) * inv;
  }
}

// x, y: [rows, cols]. y[r, j] = (x[r, j] - m_r) - log(sum_k exp(x[r, k] - m_r)).
template <class T>
__global__ void log_softmax_kernel(int64_t rows, int64_t cols, const T* x, T* y) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    const T m = row_max(cols, xr);
    double s = 0;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) s += static_cast<double>(detail::d_exp(xr[j] - m));
    s = detail::block_reduce(s, detail::SumOp{});
    const T ls = static_cast<T>(log(s));
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) yr[j] = (xr[j] - m) - ls;
  }
}

// y, gy, gx: [rows, cols]. gx[r, j] = y[r, j] * (gy[r, j] - sum_k gy[r, k] y[r, k]).
template <class T>
__global__ void softmax_backward_kernel(int64_t rows, int64_t cols, const T* y, const T* gy, T* gx) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* yr = y + r * cols;
    const T* gr = gy + r * cols;
    T* out = gx + r * cols;
    double dot = 0;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) dot += static_cast<double>(gr[j]) * yr[j];
    const T d = static_cast<T>(detail::block_reduce(dot, detail::SumOp{}));
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) out[j] = yr[j] * (gr[j] - d);
  }
}

// y (log-probs), gy, gx: [rows, cols]. gx[r, j] = gy[r, j] - exp(y[r, j]) * sum_k gy[r, k].
template <class T>
__global__ void log_softmax_backward_kernel(int64_t rows, int64_t cols, const T* y, const T* gy, T* gx) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* yr = y + r * cols;
    const T* gr = gy + r * cols;
    T* out = gx + r * cols;
    double s = 0;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) s += static_cast<double>(gr[j]);
    const T sg = static_cast<T>(detail::block_reduce(s, detail::SumOp{}));
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) out[j] = gr[j] - detail::d_exp(yr[j]) * sg;
  }
}

}  // namespace

template <class T>
void softmax_rows(int64_t rows, int64_t cols, const T* x, T* y) {
  if (rows <= 0 || cols <= 0) return;
  cudaStream_t st = detail::stream("softmax");
  softmax_kernel<T><<<detail::row_blocks(rows), detail::row_threads(cols), 0, st>>>(rows, cols, x, y);
  GS_CUDA_CHECK_LAUNCH("softmax", "softmax_kernel");
}

template <class T>
void log_softmax_rows(int64_t rows, int64_t cols, const T* x, T* y) {
  if (rows <= 0 || cols <= 0) return;
  cudaStream_t st = detail::stream("log_softmax");
  log_softmax_kernel<T><<<detail::row_blocks(rows), detail::row_threads(cols), 0, st>>>(rows, cols, x, y);
  GS_CUDA_CHECK_LAUNCH("log_softmax", "log_softmax_kernel");
}

template <class T>
void softmax_backward_rows(int64_t rows, int64_t cols, const T* y, const T* gy, T* gx) {
  if (rows <= 0 || cols <= 0) return;
  cudaStream_t st = detail::stream("softmax_backward");
  softmax_backward_kernel<T><<<detail::row_blocks(rows), detail::row_threads(cols), 0, st>>>(rows, cols, y, gy, gx);
  GS_CUDA_CHECK_LAUNCH("softmax_backward", "softmax_backward_kernel");
}

template <class T>
void log_softmax_backward_rows(int64_t rows, int64_t cols, const T* y, const T* gy, T* gx) {
  if (rows <= 0 || cols <= 0) return;
  cudaStream_t st = detail::stream("log_softmax_backward");
  log_softmax_backward_kernel<T><<<detail::row_blocks(rows), detail::row_threads(cols), 0, st>>>(rows, cols, y, gy,
                                                                                                 gx);
  GS_CUDA_CHECK_LAUNCH("log_softmax_backward", "log_softmax_backward_kernel");
}

GS_SOFTMAX_INSTANTIATE

}  // namespace gs::cuda
