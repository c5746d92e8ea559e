// Elementwise kernels on the device (ops_cuda/elementwise.h); formulas mirror ops_cpu/elementwise.cpp.
#include <type_traits>

#include "ops_cuda/check.h"
#include "ops_cuda/context.h"
#include "ops_cuda/elementwise.h"
#include "ops_cuda/kernels.cuh"

namespace gs::cuda {
namespace {

using detail::Strided;

const char* unary_name(Unary op) {
  switch (op) {
    case Unary::neg: return "neg";
    case Unary::exp: return "exp";
    case Unary::log: return "log";
    case Unary::sqrt: return "sqrt";
    case Unary::tanh: return "tanh";
    case Unary::sigmoid: return "sigmoid";
    case Unary::relu: return "relu";
    case Unary::gelu: return "gelu";
    case Unary::silu: return "silu";
    case Unary::abs: return "abs";
  }
  return "unary";
}

const char* binary_name(Binary op) {
  switch (op) {
    case Binary::add: return "add";
    case Binary::sub: return "sub";
    case Binary::mul: return "mul";
    case Binary::div: return "div";
    case Binary::pow: return "pow";
    case Binary::maximum: return "maximum";
    case Binary::minimum: return "minimum";
    case Binary::eq: return "eq";
    case Binary::lt: return "lt";
    case Binary::gt: return "gt";
  }
  return "binary";
}

// GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
template <class T>
__device__ __forceinline__ T gelu(T x) {
  const T k = T(0.7978845608028654), c = T(0.044715);
  return T(0.5) * x * (T(1) + detail::d_tanh(k * (x + c * x * x * x)));
}
template <class T>
__device__ __forceinline__ T gelu_grad(T x) {
  const T k = T(0.7978845608028654), c = T(0.044715);
  const T t = detail::d_tanh(k * (x + c * x * x * x));
  return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * k * (T(1) + T(3) * c * x * x);
}
template <class T>
__device__ __forceinline__ T sigmoid(T x) {
  // split on sign so exp never overflows
  if (x >= 0) return T(1) / (T(1) + detail::d_exp(-x));
  const T e = detail::d_exp(x);
  return e / (T(1) + e);
}

template <Unary OP, class T>
__device__ __forceinline__ T apply_unary(T x) {
  if constexpr (OP == Unary::neg) return -x;
  else if constexpr (OP == Unary::exp) return detail::d_exp(x);
  else if constexpr (OP == Unary::log) return detail::d_log(x);
  else if constexpr (OP == Unary::sqrt) return detail::d_sqrt(x);
  else if constexpr (OP == Unary::tanh) return detail::d_tanh(x);
  else if constexpr (OP == Unary::sigmoid) return sigmoid(x);
  else if constexpr (OP == Unary::relu) return x > 0 ? x : T(0);
  else if constexpr (OP == Unary::gelu) return gelu(x);
  else if constexpr (OP == Unary::silu) return x * sigmoid(x);
  else return detail::d_abs(x);
}

template <Unary OP, class T>
__device__ __forceinline__ T unary_grad(T x, T y) {
  if constexpr (OP == Unary::neg) return T(-1);
  else if constexpr (OP == Unary::exp) return y;
  else if constexpr (OP == Unary::log) return T(1) / x;
  else if constexpr (OP == Unary::sqrt) return T(0.5) / y;
  else if constexpr (OP == Unary::tanh) return T(1) - y * y;
  else if constexpr (OP == Unary::sigmoid) return y * (T(1) - y);
  else if constexpr (OP == Unary::relu) return x > 0 ? T(1) : T(0);
  else if constexpr (OP == Unary::gelu) return gelu_grad(x);
  else if constexpr (OP == Unary::silu) {
    const T s = sigmoid(x);
    return s * (T(1) + x * (T(1) - s));
  } else return x > 0 ? T(1) : (x < 0 ? T(-1) : T(0));
}

template <Binary OP, class T>
__device__ __forceinline__ T apply_binary(T a, T b) {
  if constexpr (OP == Binary::add) return a + b;
  else if constexpr (OP == Binary::sub) return a - b;
  else if constexpr (OP == Binary::mul) return a * b;
  else if constexpr (OP == Binary::div) return a / b;
  else if constexpr (OP == Binary::pow) {
    if constexpr (std::is_floating_point_v<T>) return detail::d_pow(a, b);
    else return a;  // rejected by the tensor layer before we get here
  } else if constexpr (OP == Binary::maximum) return a > b ? a : b;
  else if constexpr (OP == Binary::minimum) return a < b ? a : b;
  else if constexpr (OP == Binary::eq) return a == b ? T(1) : T(0);
  else if constexpr (OP == Binary::lt) return a < b ? T(1) : T(0);
  else return a > b ? T(1) : T(0);
}

#define GS_GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); i += int64_t{gridDim.x} * blockDim.x)

// x, y: [n] contiguous.
template <Unary OP, class T>
__global__ void unary_kernel(int64_t n, const T* __restrict__ x, T* __restrict__ y) {
  GS_GRID_STRIDE(i, n) y[i] = apply_unary<OP>(x[i]);
}

// x, y, gy, gx: [n] contiguous.
template <Unary OP, class T>
__global__ void unary_backward_kernel(int64_t n, const T* __restrict__ x, const T* __restrict__ y,
                                      const T* __restrict__ gy, T* __restrict__ gx) {
  GS_GRID_STRIDE(i, n) gx[i] = gy[i] * unary_grad<OP>(x[i], y[i]);
}

// out: [n] contiguous over the index space s.shape; a, b read through s.strides[0], s.strides[1]
// (stride 0 on broadcast dims). After coalescing, ndim <= 1 needs no index arithmetic.
template <Binary OP, class T>
__global__ void binary_kernel(Strided<2> s, int64_t n, const T* __restrict__ a, const T* __restrict__ b,
                              T* __restrict__ out) {
  if (s.ndim <= 1) {
    const int64_t sa = s.ndim ? s.strides[0][0] : 0, sb = s.ndim ? s.strides[1][0] : 0;
    GS_GRID_STRIDE(i, n) out[i] = apply_binary<OP>(a[i * sa], b[i * sb]);
    return;
  }
  GS_GRID_STRIDE(i, n) {
    int64_t off[2];
    detail::offsets_of(s, i, off);
    out[i] = apply_binary<OP>(a[off[0]], b[off[1]]);
  }
}

// out: [n] contiguous; cond, a, b read through s.strides[0..2].
template <class C, class T>
__global__ void where_kernel(Strided<3> s, int64_t n, const C* __restrict__ cond, const T* __restrict__ a,
                             const T* __restrict__ b, T* __restrict__ out) {
  GS_GRID_STRIDE(i, n) {
    int64_t off[3];
    detail::offsets_of(s, i, off);
    out[i] = cond[off[0]] != C(0) ? a[off[1]] : b[off[2]];
  }
}

// x, y: [n] contiguous; y += alpha * x.
template <class T>
__global__ void axpy_kernel(int64_t n, T alpha, const T* __restrict__ x, T* __restrict__ y) {
  GS_GRID_STRIDE(i, n) y[i] += alpha * x[i];
}

#undef GS_GRID_STRIDE

// f.template operator()<OP>() with OP the compile-time twin of op.
template <class F>
void with_unary(Unary op, F&& f) {
  switch (op) {
    case Unary::neg: f.template operator()<Unary::neg>(); return;
    case Unary::exp: f.template operator()<Unary::exp>(); return;
    case Unary::log: f.template operator()<Unary::log>(); return;
    case Unary::sqrt: f.template operator()<Unary::sqrt>(); return;
    case Unary::tanh: f.template operator()<Unary::tanh>(); return;
    case Unary::sigmoid: f.template operator()<Unary::sigmoid>(); return;
    case Unary::relu: f.template operator()<Unary::relu>(); return;
    case Unary::gelu: f.template operator()<Unary::gelu>(); return;
    case Unary::silu: f.template operator()<Unary::silu>(); return;
    case Unary::abs: f.template operator()<Unary::abs>(); return;
  }
}

template <class F>
void with_binary(Binary op, F&& f) {
  switch (op) {
    case Binary::add: f.template operator()<Binary::add>(); return;
    case Binary::sub: f.template operator()<Binary::sub>(); return;
    case Binary::mul: f.template operator()<Binary::mul>(); return;
    case Binary::div: f.template operator()<Binary::div>(); return;
    case Binary::pow: f.template operator()<Binary::pow>(); return;
    case Binary::maximum: f.template operator()<Binary::maximum>(); return;
    case Binary::minimum: f.template operator()<Binary::minimum>(); return;
    case Binary::eq: f.template operator()<Binary::eq>(); return;
    case Binary::lt: f.template operator()<Binary::lt>(); return;
    case Binary::gt: f.template operator()<Binary::gt>(); return;
  }
}

}  // namespace

template <class T>
void unary(Unary op, int64_t n, const T* x, T* y) {
  if (n <= 0) return;
  const char* name = unary_name(op);
  cudaStream_t st = detail::stream(name);
  with_unary(op, [&]<Unary OP>() { unary_kernel<OP, T><<<detail::grid_for(n), detail::kThreads, 0, st>>>(n, x, y); });
  GS_CUDA_CHECK_LAUNCH(name, "unary_kernel");
}

template <class T>
void unary_backward(Unary op, int64_t n, const T* x, const T* y, const T* gy, T* gx) {
  if (n <= 0) return;
  const char* name = unary_name(op);
  cudaStream_t st = detail::stream(name);
  with_unary(op, [&]<Unary OP>() {
    unary_backward_kernel<OP, T><<<detail::grid_for(n), detail::kThreads, 0, st>>>(n, x, y, gy, gx);
  });
  GS_CUDA_CHECK_LAUNCH(name, "unary_backward_kernel");
}

template <class T>
void binary(Binary op, int ndim, const int64_t* shape, const T* a, const int64_t* a_strides, const T* b,
            const int64_t* b_strides, T* out) {
  const char* name = binary_name(op);
  Strided<2> s = detail::make_strided<2>(name, ndim, shape, {a_strides, b_strides});
  const int64_t n = detail::numel(ndim, shape);
  if (n == 0) return;
  detail::coalesce(s);
  cudaStream_t st = detail::stream(name);
  with_binary(op, [&]<Binary OP>() {
    binary_kernel<OP, T><<<detail::grid_for(n), detail::kThreads, 0, st>>>(s, n, a, b, out);
  });
  GS_CUDA_CHECK_LAUNCH(name, "binary_kernel");
}

template <class C, class T>
void where(int ndim, const int64_t* shape, const C* cond, const int64_t* c_strides, const T* a,
           const int64_t* a_strides, const T* b, const int64_t* b_strides, T* out) {
  Strided<3> s = detail::make_strided<3>("where", ndim, shape, {c_strides, a_strides, b_strides});
  const int64_t n = detail::numel(ndim, shape);
  if (n == 0) return;
  detail::coalesce(s);
  cudaStream_t st = detail::stream("where");
  where_kernel<C, T><<<detail::grid_for(n), detail::kThreads, 0, st>>>(s, n, cond, a, b, out);
  GS_CUDA_CHECK_LAUNCH("where", "where_kernel");
}

template <class T>
void axpy(int64_t n, T alpha, const T* x, T* y) {
  if (n <= 0) return;
  cudaStream_t st = detail::stream("axpy");
  axpy_kernel<T><<<detail::grid_for(n), detail::kThreads, 0, st>>>(n, alpha, x, y);
  GS_CUDA_CHECK_LAUNCH("axpy", "axpy_kernel");
}

template void unary<float>(Unary, int64_t, const float*, float*);
template void unary<double>(Unary, int64_t, const double*, double*);
template void unary_backward<float>(Unary, int64_t, const float*, const float*, const float*, float*);
template void unary_backward<double>(Unary, int64_t, const double*, const double*, const double*, double*);
#define GS_BIN(T) \
  template void binary<T>(Binary, int, const int64_t*, const T*, const int64_t*, const T*, const int64_t*, T*);
GS_BIN(float) GS_BIN(double) GS_BIN(int64_t)
#undef GS_BIN
#define GS_WHERE(C, T)                                                                              \
  template void where<C, T>(int, const int64_t*, const C*, const int64_t*, const T*, const int64_t*, \
                            const T*, const int64_t*, T*);
GS_WHERE(float, float) GS_WHERE(float, double) GS_WHERE(float, int64_t)
GS_WHERE(double, float) GS_WHERE(double, double) GS_WHERE(double, int64_t)
GS_WHERE(int64_t, float) GS_WHERE(int64_t, double) GS_WHERE(int64_t, int64_t)
#undef GS_WHERE
template void axpy<float>(int64_t, float, const float*, float*);
template void axpy<double>(int64_t, double, const double*, double*);
template void axpy<int64_t>(int64_t, int64_t, const int64_t*, int64_t*);

}  // namespace gs::cuda
