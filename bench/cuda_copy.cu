// A device copy kernel: the achievable-bandwidth reference that bench_cuda measures in the same
// run as the fused cross-entropy (read n floats, write n floats).
#include <cuda_runtime.h>

#include "bench/cuda_copy.h"

namespace gs::bench {
namespace {

// src, dst: [n4] float4 (16-byte aligned); grid-stride loop, one float4 per thread per step.
__global__ void copy4_kernel(const float4* __restrict__ src, float4* __restrict__ dst, int64_t n4) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n4; i += int64_t{gridDim.x} * blockDim.x)
    dst[i] = src[i];
}

// The n % 4 tail, element by element. src, dst: [n].
__global__ void copy_tail_kernel(const float* __restrict__ src, float* __restrict__ dst, int64_t from, int64_t n) {
  const int64_t i = from + threadIdx.x;
  if (i < n) dst[i] = src[i];
}

}  // namespace

int device_copy(const float* src, float* dst, int64_t n) {
  const int64_t n4 = n / 4;
  if (n4 > 0) {
    int dev = 0, sms = 1;
    cudaGetDevice(&dev);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
    const int64_t want = (n4 + 255) / 256;
    const int blocks = static_cast<int>(want < int64_t{sms} * 16 ? want : int64_t{sms} * 16);
    copy4_kernel<<<blocks, 256>>>(reinterpret_cast<const float4*>(src), reinterpret_cast<float4*>(dst), n4);
  }
  if (n % 4) copy_tail_kernel<<<1, 4>>>(src, dst, n4 * 4, n);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace gs::bench
