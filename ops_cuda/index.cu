// Concatenation on the device (ops_cuda/index.h; contract in ops_common/index.h).
#include "ops_cuda/check.h"
#include "ops_cuda/context.h"
#include "ops_cuda/index.h"
#include "ops_cuda/kernels.cuh"

namespace gs::cuda {
namespace {

// src: [outer, chunk]; dst: [outer, dst_row] with dst[o, offset + e] = src[o, e] for e < chunk
// (chunk = len * inner, dst_row = total * inner, offset = offset * inner, all in elements).
// Grid: x covers the chunk (grid-stride), y loops over outer rows.
template <class T>
__global__ void concat_kernel(int64_t outer, int64_t chunk, int64_t dst_row, int64_t offset, const T* __restrict__ src,
                              T* __restrict__ dst) {
  for (int64_t o = blockIdx.y; o < outer; o += gridDim.y) {
    const T* s = src + o * chunk;
    T* d = dst + o * dst_row + offset;
    for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < chunk; e += int64_t{gridDim.x} * blockDim.x)
      d[e] = s[e];
  }
}

}  // namespace

template <class T>
void concat_into(int64_t outer, int64_t inner, int64_t len, int64_t total, int64_t offset, const T* src, T* dst) {
  const int64_t chunk = len * inner;
  if (outer <= 0 || chunk <= 0) return;
  cudaStream_t st = detail::stream("concat");
  if (outer == 1 || len == total) {  // the piece is one contiguous run of dst
    GS_CUDA_CHECK("concat", cudaMemcpyAsync(dst + offset * inner, src, static_cast<size_t>(outer * chunk) * sizeof(T),
                                            cudaMemcpyDeviceToDevice, st));
    return;
  }
  const dim3 grid(detail::grid_for(chunk), static_cast<unsigned>(outer < 65535 ? outer : 65535));
  concat_kernel<T><<<grid, detail::kThreads, 0, st>>>(outer, chunk, total * inner, offset * inner, src, dst);
  GS_CUDA_CHECK_LAUNCH("concat", "concat_kernel");
}

GS_INDEX_INSTANTIATE

}  // namespace gs::cuda
