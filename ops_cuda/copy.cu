// Strided copies and fills on the device (ops_cuda/copy.h).
#include <cstdint>
#include <type_traits>

#include "ops_cuda/check.h"
#include "ops_cuda/context.h"
#include "ops_cuda/copy.h"
#include "ops_cuda/kernels.cuh"

namespace gs::cuda {
namespace {

using detail::Strided;

// src: read through s.strides[0] over the index space s.shape (n elements); dst: [n] contiguous.
// U: an unsigned integer of the element's size (copies move bits, not values).
template <class U>
__global__ void strided_copy_kernel(Strided<1> s, int64_t n, const U* __restrict__ src, U* __restrict__ dst) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    int64_t off[1];
    detail::offsets_of(s, i, off);
    dst[i] = src[off[0]];
  }
}

// src: [n] contiguous; dst: written through s.strides[0] over s.shape (no stride 0, no overlap).
template <class U>
__global__ void strided_scatter_kernel(Strided<1> s, int64_t n, const U* __restrict__ src, U* __restrict__ dst) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    int64_t off[1];
    detail::offsets_of(s, i, off);
    dst[off[0]] = src[i];
  }
}

// One element converted, as ops_cpu/copy.h specifies: floating -> int64 truncates, NaN -> 0,
// out-of-range values saturate (spelled out rather than left to the cast, which C++ leaves
// undefined there).
template <class Dst, class Src>
__device__ __forceinline__ Dst convert_value(Src x) {
  if constexpr (std::is_floating_point_v<Src> && std::is_integral_v<Dst>) {
    if (x != x) return 0;
    if (x >= static_cast<Src>(9223372036854775808.0)) return INT64_MAX;
    if (x < static_cast<Src>(-9223372036854775808.0)) return INT64_MIN;
  }
  return static_cast<Dst>(x);
}

// src: read through s.strides[0] over s.shape (n elements), Src; dst: [n] contiguous, Dst.
template <class Src, class Dst>
__global__ void strided_convert_kernel(Strided<1> s, int64_t n, const Src* __restrict__ src, Dst* __restrict__ dst) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    int64_t off[1];
    detail::offsets_of(s, i, off);
    dst[i] = convert_value<Dst>(src[off[0]]);
  }
}

// dst: [n] contiguous.
template <class T>
__global__ void fill_kernel(int64_t n, T value, T* __restrict__ dst) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    dst[i] = value;
}

// Calls f.template operator()<U>() with U the unsigned type of elem_size bytes.
template <class F>
void by_size(const char* op, int elem_size, F&& f) {
  switch (elem_size) {
    case 1: f.template operator()<uint8_t>(); return;
    case 2: f.template operator()<uint16_t>(); return;
    case 4: f.template operator()<uint32_t>(); return;
    case 8: f.template operator()<uint64_t>(); return;
    default:
      throw std::runtime_error(std::string(op) + ": element size " + std::to_string(elem_size) +
                               " is not supported (1, 2, 4 or 8 bytes)");
  }
}

}  // namespace

void strided_copy(int ndim, const int64_t* shape, const void* src, const int64_t* src_strides, int elem_size,
                  void* dst) {
  const char* op = "copy";
  Strided<1> s = detail::make_strided<1>(op, ndim, shape, {src_strides});
  const int64_t n = detail::numel(ndim, shape);
  if (n == 0) return;
  detail::coalesce(s);
  cudaStream_t st = detail::stream(op);
  if (detail::is_row_major(s.ndim, s.shape, s.strides[0])) {
    GS_CUDA_CHECK(op, cudaMemcpyAsync(dst, src, static_cast<size_t>(n) * elem_size, cudaMemcpyDeviceToDevice, st));
    return;
  }
  by_size(op, elem_size, [&]<class U>() {
    strided_copy_kernel<U><<<detail::grid_for(n), detail::kThreads, 0, st>>>(s, n, static_cast<const U*>(src),
                                                                          static_cast<U*>(dst));
  });
  GS_CUDA_CHECK_LAUNCH(op, "strided_copy_kernel");
}

void strided_scatter(int ndim, const int64_t* shape, const void* src, void* dst, const int64_t* dst_strides,
                     int elem_size) {
  const char* op = "copy_";
  Strided<1> s = detail::make_strided<1>(op, ndim, shape, {dst_strides});
  const int64_t n = detail::numel(ndim, shape);
  if (n == 0) return;
  detail::coalesce(s);
  cudaStream_t st = detail::stream(op);
  if (detail::is_row_major(s.ndim, s.shape, s.strides[0])) {
    GS_CUDA_CHECK(op, cudaMemcpyAsync(dst, src, static_cast<size_t>(n) * elem_size, cudaMemcpyDeviceToDevice, st));
    return;
  }
  by_size(op, elem_size, [&]<class U>() {
    strided_scatter_kernel<U><<<detail::grid_for(n), detail::kThreads, 0, st>>>(s, n, static_cast<const U*>(src),
                                                                             static_cast<U*>(dst));
  });
  GS_CUDA_CHECK_LAUNCH(op, "strided_scatter_kernel");
}

template <class Src, class Dst>
void strided_convert(int ndim, const int64_t* shape, const Src* src, const int64_t* src_strides, Dst* dst) {
  const char* op = "to(dtype)";
  Strided<1> s = detail::make_strided<1>(op, ndim, shape, {src_strides});
  const int64_t n = detail::numel(ndim, shape);
  if (n == 0) return;
  detail::coalesce(s);
  cudaStream_t st = detail::stream(op);
  strided_convert_kernel<Src, Dst><<<detail::grid_for(n), detail::kThreads, 0, st>>>(s, n, src, dst);
  GS_CUDA_CHECK_LAUNCH(op, "strided_convert_kernel");
}

GS_CUDA_STRIDED_CONVERT_ALL

template <class T>
void fill(int64_t n, T value, T* dst) {
  if (n <= 0) return;
  cudaStream_t st = detail::stream("fill");
  fill_kernel<T><<<detail::grid_for(n), detail::kThreads, 0, st>>>(n, value, dst);
  GS_CUDA_CHECK_LAUNCH("fill", "fill_kernel");
}

GS_COPY_INSTANTIATE

}  // namespace gs::cuda
