// Layer norm and RMS norm over the last dimension on the device (ops_cuda/norm.h; contracts in
// ops_common/norm.h). Row statistics: one block per row, double sums over a fixed tree. Parameter
// gradients (column sums over rows): rows split into a size-determined number of chunks, each
// chunk summed in row order by one thread per column, then the chunks added in order. No atomics:
// every result is bitwise reproducible for given sizes.
#include "ops_cuda/check.h"
#include "ops_cuda/context.h"
#include "ops_cuda/kernels.cuh"
#include "ops_cuda/norm.h"

namespace gs::cuda {
namespace {

struct Pair {
  double a, b;
};
struct PairSumOp {
  __device__ Pair operator()(Pair x, Pair y) const { return {x.a + y.a, x.b + y.b}; }
};

// x, y: [rows, D]; gamma, beta: [D] or nullptr; mean, rstd: [rows]. One block per row.
// Two-pass statistics in double (no cancellation for large means), as on the CPU.
template <class T>
__global__ void layer_norm_forward_kernel(int64_t rows, int64_t D, const T* __restrict__ x, const T* __restrict__ gamma,
                                          const T* __restrict__ beta, T eps, T* __restrict__ y, T* __restrict__ mean,
                                          T* __restrict__ rstd) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * D;
    T* yr = y + r * D;
    double s = 0;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) s += static_cast<double>(xr[j]);
    s = detail::block_reduce(s, detail::SumOp{});
    const double m = D > 0 ? s / static_cast<double>(D) : 0.0;
    double v = 0;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      const double d = xr[j] - m;
      v += d * d;
    }
    v = detail::block_reduce(v, detail::SumOp{});
    v = D > 0 ? v / static_cast<double>(D) : 0.0;
    const double rs = 1.0 / sqrt(v + static_cast<double>(eps));
    if (threadIdx.x == 0) {
      mean[r] = static_cast<T>(m);
      rstd[r] = static_cast<T>(rs);
    }
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      double h = (xr[j] - m) * rs;
      if (gamma) h *= gamma[j];
      if (beta) h += beta[j];
      yr[j] = static_cast<T>(h);
    }
  }
}

// gy, x, gx: [rows, D]; mean, rstd: [rows]; gamma: [D] or nullptr. One block per row.
// gx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = gy * gamma, xhat = (x - mean) * rstd.
template <class T>
__global__ void layer_norm_backward_kernel(int64_t rows, int64_t D, const T* __restrict__ gy, const T* __restrict__ x,
                                           const T* __restrict__ mean, const T* __restrict__ rstd,
                                           const T* __restrict__ gamma, T* __restrict__ gx) {
  const double invD = D > 0 ? 1.0 / static_cast<double>(D) : 0.0;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * D;
    const T* gr = gy + r * D;
    T* out = gx + r * D;
    const double m = mean[r], rs = rstd[r];
    Pair p{0, 0};  // (sum g, sum g * xhat)
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      const double g = gamma ? static_cast<double>(gr[j]) * gamma[j] : static_cast<double>(gr[j]);
      p.a += g;
      p.b += g * (xr[j] - m) * rs;
    }
    p = detail::block_reduce(p, PairSumOp{});
    const double mg = p.a * invD, mgx = p.b * invD;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      const double g = gamma ? static_cast<double>(gr[j]) * gamma[j] : static_cast<double>(gr[j]);
      const double xh = (xr[j] - m) * rs;
      out[j] = static_cast<T>(rs * (g - mg - xh * mgx));
    }
  }
}

// x, y: [rows, D]; gamma: [D] or nullptr; rstd: [rows]. One block per row.
template <class T>
__global__ void rms_norm_forward_kernel(int64_t rows, int64_t D, const T* __restrict__ x, const T* __restrict__ gamma,
                                        T eps, T* __restrict__ y, T* __restrict__ rstd) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * D;
    T* yr = y + r * D;
    double ss = 0;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) ss += static_cast<double>(xr[j]) * xr[j];
    ss = detail::block_reduce(ss, detail::SumOp{});
    const double ms = D > 0 ? ss / static_cast<double>(D) : 0.0;
    const double rs = 1.0 / sqrt(ms + static_cast<double>(eps));
    if (threadIdx.x == 0) rstd[r] = static_cast<T>(rs);
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      double h = xr[j] * rs;
      if (gamma) h *= gamma[j];
      yr[j] = static_cast<T>(h);
    }
  }
}

// gy, x, gx: [rows, D]; rstd: [rows]; gamma: [D] or nullptr. One block per row.
// gx = rstd * (g - xhat * mean(g * xhat)), g = gy * gamma, xhat = x * rstd.
template <class T>
__global__ void rms_norm_backward_kernel(int64_t rows, int64_t D, const T* __restrict__ gy, const T* __restrict__ x,
                                         const T* __restrict__ rstd, const T* __restrict__ gamma, T* __restrict__ gx) {
  const double invD = D > 0 ? 1.0 / static_cast<double>(D) : 0.0;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * D;
    const T* gr = gy + r * D;
    T* out = gx + r * D;
    const double rs = rstd[r];
    double sgx = 0;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      const double g = gamma ? static_cast<double>(gr[j]) * gamma[j] : static_cast<double>(gr[j]);
      sgx += g * xr[j] * rs;
    }
    const double mgx = detail::block_reduce(sgx, detail::SumOp{}) * invD;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      const double g = gamma ? static_cast<double>(gr[j]) * gamma[j] : static_cast<double>(gr[j]);
      out[j] = static_cast<T>(rs * (g - xr[j] * rs * mgx));
    }
  }
}

// Stage 1 of the parameter gradients. gy, x: [rows, D]; mean (nullptr for RMS norm), rstd: [rows].
// part_a: [chunks, D] = sum over the chunk's rows of gy * xhat; part_b (nullptr = skip): sum gy.
// Grid: x covers the D columns (grid-stride), y = chunk c (rows [c * chunk_rows, ...)).
template <class T>
__global__ void param_grad_partials_kernel(int64_t rows, int64_t D, int64_t chunk_rows, const T* __restrict__ gy,
                                           const T* __restrict__ x, const T* __restrict__ mean,
                                           const T* __restrict__ rstd, double* __restrict__ part_a,
                                           double* __restrict__ part_b) {
  const int64_t c = blockIdx.y;
  const int64_t r0 = c * chunk_rows, r1 = r0 + chunk_rows < rows ? r0 + chunk_rows : rows;
  for (int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; j < D; j += int64_t{gridDim.x} * blockDim.x) {
    double acc_a = 0, acc_b = 0;
    for (int64_t r = r0; r < r1; ++r) {
      const double g = static_cast<double>(gy[r * D + j]);
      const double xh = mean ? (x[r * D + j] - static_cast<double>(mean[r])) * rstd[r]
                             : static_cast<double>(x[r * D + j]) * rstd[r];
      acc_a += g * xh;
      acc_b += g;
    }
    part_a[c * D + j] = acc_a;
    if (part_b) part_b[c * D + j] = acc_b;
  }
}

// Stage 2. part_a/part_b: [chunks, D]; out_a/out_b: [D] (nullptr = skip), chunks added in order.
template <class T>
__global__ void param_grad_finish_kernel(int64_t D, int64_t chunks, const double* __restrict__ part_a,
                                         const double* __restrict__ part_b, T* __restrict__ out_a,
                                         T* __restrict__ out_b) {
  for (int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; j < D; j += int64_t{gridDim.x} * blockDim.x) {
    double a = 0, b = 0;
    for (int64_t c = 0; c < chunks; ++c) {
      a += part_a[c * D + j];
      if (part_b) b += part_b[c * D + j];
    }
    if (out_a) out_a[j] = static_cast<T>(a);
    if (out_b) out_b[j] = static_cast<T>(b);
  }
}

// ggamma[j] = sum_r gy * xhat, gbeta[j] = sum_r gy (either may be nullptr).
template <class T>
void param_grads(const char* op, cudaStream_t st, int64_t rows, int64_t D, const T* gy, const T* x, const T* mean,
                 const T* rstd, T* ggamma, T* gbeta) {
  if ((!ggamma && !gbeta) || D <= 0) return;
  int64_t chunk_rows = (rows + 255) / 256;  // at most 256 chunks of at least 64 rows
  if (chunk_rows < 64) chunk_rows = 64;
  int64_t chunks = (rows + chunk_rows - 1) / chunk_rows;
  if (chunks < 1) chunks = 1;
  detail::DeviceBuffer part(op, static_cast<size_t>(2 * chunks * D) * sizeof(double));
  double* part_a = part.as<double>();
  double* part_b = gbeta ? part_a + chunks * D : nullptr;
  const dim3 grid(detail::grid_for(D), static_cast<unsigned>(chunks));
  param_grad_partials_kernel<T><<<grid, detail::kThreads, 0, st>>>(rows, D, chunk_rows, gy, x, mean, rstd, part_a,
                                                                  part_b);
  GS_CUDA_CHECK_LAUNCH(op, "param_grad_partials_kernel");
  param_grad_finish_kernel<T><<<detail::grid_for(D), detail::kThreads, 0, st>>>(D, chunks, part_a, part_b, ggamma,
                                                                                gbeta);
  GS_CUDA_CHECK_LAUNCH(op, "param_grad_finish_kernel");
}

}  // namespace

template <class T>
void layer_norm_forward(int64_t rows, int64_t D, const T* x, const T* gamma, const T* beta, T eps, T* y, T* mean,
                        T* rstd) {
  if (rows <= 0) return;
  cudaStream_t st = detail::stream("layer_norm");
  layer_norm_forward_kernel<T><<<detail::row_blocks(rows), detail::row_threads(D), 0, st>>>(rows, D, x, gamma, beta,
                                                                                            eps, y, mean, rstd);
  GS_CUDA_CHECK_LAUNCH("layer_norm", "layer_norm_forward_kernel");
}

template <class T>
void layer_norm_backward(int64_t rows, int64_t D, const T* gy, const T* x, const T* mean, const T* rstd,
                         const T* gamma, T* gx, T* ggamma, T* gbeta) {
  const char* op = "layer_norm_backward";
  cudaStream_t st = detail::stream(op);
  if (rows > 0) {
    layer_norm_backward_kernel<T><<<detail::row_blocks(rows), detail::row_threads(D), 0, st>>>(rows, D, gy, x, mean,
                                                                                               rstd, gamma, gx);
    GS_CUDA_CHECK_LAUNCH(op, "layer_norm_backward_kernel");
  }
  param_grads(op, st, rows, D, gy, x, mean, rstd, ggamma, gbeta);
}

template <class T>
void rms_norm_forward(int64_t rows, int64_t D, const T* x, const T* gamma, T eps, T* y, T* rstd) {
  if (rows <= 0) return;
  cudaStream_t st = detail::stream("rms_norm");
  rms_norm_forward_kernel<T><<<detail::row_blocks(rows), detail::row_threads(D), 0, st>>>(rows, D, x, gamma, eps, y,
                                                                                          rstd);
  GS_CUDA_CHECK_LAUNCH("rms_norm", "rms_norm_forward_kernel");
}

template <class T>
void rms_norm_backward(int64_t rows, int64_t D, const T* gy, const T* x, const T* rstd, const T* gamma, T* gx,
                       T* ggamma) {
  const char* op = "rms_norm_backward";
  cudaStream_t st = detail::stream(op);
  if (rows > 0) {
    rms_norm_backward_kernel<T><<<detail::row_blocks(rows), detail::row_threads(D), 0, st>>>(rows, D, gy, x, rstd,
                                                                                             gamma, gx);
    GS_CUDA_CHECK_LAUNCH(op, "rms_norm_backward_kernel");
  }
  param_grads(op, st, rows, D, gy, x, static_cast<const T*>(nullptr), rstd, ggamma, static_cast<T*>(nullptr));
}

GS_NORM_INSTANTIATE

}  // namespace gs::cuda
