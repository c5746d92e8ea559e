#pragma once
// The bandwidth reference of bench_cuda: a plain device copy kernel (bench/cuda_copy.cu).
#include <cstdint>

namespace gs::bench {

// dst[0..n) = src[0..n) on the default stream, 16-byte loads and stores where aligned.
// Returns the launch status as a cudaError_t value (0 = success), so callers need no CUDA header.
int device_copy(const float* src, float* dst, int64_t n);

}  // namespace gs::bench
