#pragma once
// Scalar math usable from both backends: the per-element formulas of ops_common/unary_ref.h and
// binary_ops.h are compiled by the host compiler for ops_cpu and by nvcc for ops_cuda's kernels.
//
// GS_HOST_DEVICE marks such a function: __host__ __device__ under nvcc, plain inline elsewhere,
// and always inlined, because the CPU's vectorised loops (ops_cpu/vec_math.cpp, compiled once per
// instruction set) must see the formula's body to vectorise it.
//
// gs::kernel::math::exp and friends pick the function each side already used, so moving a formula
// here changes no result: the standard library's overload on the host (std::exp(float) is expf,
// as before), and CUDA's expf / exp in device code. T: float, double.
#include <cmath>
#include <type_traits>

#if defined(__CUDACC__)
#define GS_HOST_DEVICE __host__ __device__ __forceinline__
#elif defined(__GNUC__)
#define GS_HOST_DEVICE inline __attribute__((always_inline))
#else
#define GS_HOST_DEVICE inline
#endif

namespace gs::kernel::math {

// Device code (nvcc's device pass defines __CUDA_ARCH__) calls CUDA's global math functions by
// precision; host code (g++, and nvcc's host pass) calls std::. Qualified calls throughout: these
// functions share the names they wrap.
#ifdef __CUDA_ARCH__
#define GS_MATH_1(NAME, F32, F64)                                 \
  template <class T>                                              \
  GS_HOST_DEVICE T NAME(T x) {                                    \
    if constexpr (std::is_same_v<T, float>) return ::F32(x);      \
    else return ::F64(x);                                         \
  }
#else
#define GS_MATH_1(NAME, F32, F64) \
  template <class T>              \
  GS_HOST_DEVICE T NAME(T x) {    \
    return std::NAME(x);          \
  }
#endif

GS_MATH_1(exp, expf, exp)
GS_MATH_1(log, logf, log)
GS_MATH_1(sqrt, sqrtf, sqrt)
GS_MATH_1(tanh, tanhf, tanh)
GS_MATH_1(abs, fabsf, fabs)
#undef GS_MATH_1

template <class T>
GS_HOST_DEVICE T pow(T a, T b) {
#ifdef __CUDA_ARCH__
  if constexpr (std::is_same_v<T, float>) return ::powf(a, b);
  else return ::pow(a, b);
#else
  return std::pow(a, b);
#endif
}

}  // namespace gs::kernel::math
