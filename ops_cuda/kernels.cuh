#pragma once
// Internal to ops_cuda: device-side helpers shared by the kernel families (launch shapes,
// accumulator types, math overloads, strided indexing, a deterministic block reduction).
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace gs::cuda::detail {

inline constexpr int kThreads = 256;         // threads per block of the 1-d kernels
inline constexpr int kMaxRowThreads = 256;   // largest block of the row kernels (power of 2)
inline constexpr int64_t kMaxBlocks = 1 << 16;  // grid-stride loops cover the rest
inline constexpr int kMaxDims = 16;

// Blocks for n elements at `threads` per block, capped (kernels use grid-stride loops).
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t b = (n + threads - 1) / threads;
  if (b < 1) b = 1;
  return static_cast<unsigned>(b < kMaxBlocks ? b : kMaxBlocks);
}

// Block size for a kernel that gives one block to each row of `cols` elements: the next power
// of two >= cols, clamped to [32, 256]. Depends only on cols, so every reduction tree (and with
// it every rounding) is a function of the sizes alone: results are bitwise reproducible.
inline int row_threads(int64_t cols) {
  int t = 32;
  while (t < kMaxRowThreads && t < cols) t *= 2;
  return t;
}

// Rows handled by a grid of one block per row (the kernels loop when rows exceed it).
inline unsigned row_blocks(int64_t rows) {
  return static_cast<unsigned>(rows < (int64_t{1} << 20) ? (rows > 0 ? rows : 1) : (int64_t{1} << 20));
}

// Accumulator: double for float and double (the CPU kernels sum floats in double), int64 for int64.
template <class T>
using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;

// ---- math overloads (float -> the f-suffixed CUDA function, double -> the double one) --------
// The elementwise ops' math is in ops_common/scalar_math.h (gs::kernel::math, host and device);
// these are the helpers of the row kernels (softmax, cross-entropy, reductions).
template <class T>
__device__ __forceinline__ T d_exp(T x) {
  if constexpr (std::is_same_v<T, float>) return expf(x);
  else return exp(x);
}
template <class T>
__device__ __forceinline__ bool d_isnan(T x) {
  if constexpr (std::is_floating_point_v<T>) return x != x;
  else return false;
}
template <class T>
__device__ __forceinline__ T d_neg_inf() {
  if constexpr (std::is_same_v<T, float>) return -__int_as_float(0x7f800000);
  else return -__longlong_as_double(0x7ff0000000000000LL);
}

// ---- strided indexing ---------------------------------------------------------------------
// K operands over one row-major index space; passed to kernels by value (host arrays copied in).
template <int K>
struct Strided {
  int ndim;
  int64_t shape[kMaxDims];
  int64_t strides[K][kMaxDims];
};

template <int K>
Strided<K> make_strided(const char* op, int ndim, const int64_t* shape, const int64_t* const (&strides)[K]) {
  if (ndim < 0 || ndim > kMaxDims)
    throw std::runtime_error(std::string(op) + ": at most 16 dims are supported, got " + std::to_string(ndim));
  Strided<K> s{};
  s.ndim = ndim;
  for (int d = 0; d < ndim; ++d) {
    s.shape[d] = shape[d];
    for (int k = 0; k < K; ++k) s.strides[k][d] = strides[k][d];
  }
  return s;
}

// Drops size-1 dims and merges neighbours d, d+1 that every operand walks as one run
// (strides[k][d] == strides[k][d+1] * shape[d+1]); fewer dims means fewer divisions per element.
template <int K>
void coalesce(Strided<K>& s) {
  int out = 0;
  for (int d = 0; d < s.ndim; ++d) {
    if (s.shape[d] == 1) continue;
    if (out > 0) {
      bool merge = true;
      for (int k = 0; k < K; ++k) merge = merge && s.strides[k][out - 1] == s.strides[k][d] * s.shape[d];
      if (merge) {
        s.shape[out - 1] *= s.shape[d];
        for (int k = 0; k < K; ++k) s.strides[k][out - 1] = s.strides[k][d];
        continue;
      }
    }
    s.shape[out] = s.shape[d];
    for (int k = 0; k < K; ++k) s.strides[k][out] = s.strides[k][d];
    ++out;
  }
  s.ndim = out;
}

inline int64_t numel(int ndim, const int64_t* shape) {
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) n *= shape[d];
  return n;
}

// True when the strides are exactly row-major contiguous for the shape (size-1 dims ignored).
inline bool is_row_major(int ndim, const int64_t* shape, const int64_t* strides) {
  int64_t expect = 1;
  for (int d = ndim - 1; d >= 0; --d) {
    if (shape[d] == 1) continue;
    if (strides[d] != expect) return false;
    expect *= shape[d];
  }
  return true;
}

// Element offsets of linear (row-major) index i in each operand.
template <int K>
__device__ __forceinline__ void offsets_of(const Strided<K>& s, int64_t i, int64_t (&off)[K]) {
  for (int k = 0; k < K; ++k) off[k] = 0;
  for (int d = s.ndim - 1; d >= 0; --d) {
    const int64_t n = s.shape[d];
    const int64_t q = i / n, r = i - q * n;
    for (int k = 0; k < K; ++k) off[k] += r * s.strides[k][d];
    i = q;
  }
}

// ---- deterministic block reduction ----------------------------------------------------------
// Fixed binary tree over the block's threads (blockDim.x a power of two <= kMaxRowThreads);
// every thread gets the result. The order of the combines depends only on blockDim.x.
template <class T, class Op>
__device__ T block_reduce(T v, Op op) {
  __shared__ alignas(16) unsigned char raw[kMaxRowThreads * sizeof(T)];
  T* s = reinterpret_cast<T*>(raw);
  const unsigned t = threadIdx.x;
  s[t] = v;
  __syncthreads();
  for (unsigned w = blockDim.x / 2; w > 0; w >>= 1) {
    if (t < w) s[t] = op(s[t], s[t + w]);
    __syncthreads();
  }
  const T r = s[0];
  __syncthreads();  // the buffer is reused by the next call
  return r;
}

struct SumOp {
  template <class T>
  __device__ T operator()(T a, T b) const { return a + b; }
};
struct MaxOp {  // NaN-ignoring like the CPU's `x > m ? x : m` scan
  template <class T>
  __device__ T operator()(T a, T b) const { return b > a ? b : a; }
};

}  // namespace gs::cuda::detail
