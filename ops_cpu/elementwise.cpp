#include "ops_cpu/elementwise.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "ops_cpu/strided.h"
#include "ops_cpu/threads.h"
#include "ops_cpu/vec_math.h"

namespace gs::cpu {
namespace {

// GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
template <class T>
inline T gelu(T x) {
  const T k = T(0.7978845608028654), c = T(0.044715);
  return T(0.5) * x * (T(1) + std::tanh(k * (x + c * x * x * x)));
}
template <class T>
inline T gelu_grad(T x) {
  const T k = T(0.7978845608028654), c = T(0.044715);
  const T t = std::tanh(k * (x + c * x * x * x));
  return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * k * (T(1) + T(3) * c * x * x);
}
template <class T>
inline T sigmoid(T x) {
  // split on sign so exp never overflows
  if (x >= 0) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

template <class T>
inline T apply_unary(Unary op, T x) {
  switch (op) {
    case Unary::neg: return -x;
    case Unary::exp: return std::exp(x);
    case Unary::log: return std::log(x);
    case Unary::sqrt: return std::sqrt(x);
    case Unary::tanh: return std::tanh(x);
    case Unary::sigmoid: return sigmoid(x);
    case Unary::relu: return x > 0 ? x : T(0);
    case Unary::gelu: return gelu(x);
    case Unary::silu: return x * sigmoid(x);
    case Unary::abs: return std::abs(x);
  }
  return x;
}

template <class T>
inline T unary_grad(Unary op, T x, T y) {
  switch (op) {
    case Unary::neg: return T(-1);
    case Unary::exp: return y;
    case Unary::log: return T(1) / x;
    case Unary::sqrt: return T(0.5) / y;
    case Unary::tanh: return T(1) - y * y;
    case Unary::sigmoid: return y * (T(1) - y);
    case Unary::relu: return x > 0 ? T(1) : T(0);
    case Unary::gelu: return gelu_grad(x);
    case Unary::silu: {
      const T s = sigmoid(x);
      return s * (T(1) + x * (T(1) - s));
    }
    case Unary::abs: return x > 0 ? T(1) : (x < 0 ? T(-1) : T(0));
  }
  return T(0);
}

template <class T>
inline T apply_binary(Binary op, T a, T b) {
  switch (op) {
    case Binary::add: return a + b;
    case Binary::sub: return a - b;
    case Binary::mul: return a * b;
    case Binary::div: return a / b;
    case Binary::pow:
      if constexpr (std::is_floating_point_v<T>) return std::pow(a, b);
      else return a;  // rejected by the tensor layer before we get here
    case Binary::maximum: return a > b ? a : b;
    case Binary::minimum: return a < b ? a : b;
    case Binary::eq: return a == b ? T(1) : T(0);
    case Binary::lt: return a < b ? T(1) : T(0);
    case Binary::gt: return a > b ? T(1) : T(0);
  }
  return a;
}

// One templated loop per op keeps the switch out of the inner loop.
template <class T, class F>
void binary_loop(int ndim, const int64_t* shape, const T* a, const int64_t* sa, const T* b,
                 const int64_t* sb, T* out, F f) {
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) n *= shape[d];
  const int64_t ia = ndim ? sa[ndim - 1] : 0, ib = ndim ? sb[ndim - 1] : 0;
  if (ndim <= 1) {  // the common case after the tensor layer coalesces dims
    // Branch around the pragma: an `if` clause still enters the OpenMP runtime (a team of one
    // and a futex call), which costs more than a small op itself.
    if (n > kParallelGrain) {
#pragma omp parallel for
      for (int64_t i = 0; i < n; ++i) out[i] = f(a[i * ia], b[i * ib]);
    } else {
      for (int64_t i = 0; i < n; ++i) out[i] = f(a[i * ia], b[i * ib]);
    }
    return;
  }
  T* o = out;
  detail::for_each_row<2>(ndim, shape, {sa, sb}, [&](const auto& off, int64_t inner) {
    const T* pa = a + off[0];
    const T* pb = b + off[1];
    for (int64_t i = 0; i < inner; ++i) o[i] = f(pa[i * ia], pb[i * ib]);
    o += inner;
  });
}

}  // namespace

template <class T>
void unary(Unary op, int64_t n, const T* x, T* y) {
  if constexpr (std::is_same_v<T, float>) {
    if (op == Unary::gelu) {  // the GPT's MLP: vectorised tanh (vec_math.h)
      parallel_blocks(n, kParallelGrain / 8, [&](int64_t b, int64_t e) { vec::gelu(e - b, x + b, y + b); });
      return;
    }
  }
  switch (op) {
#define GS_UNARY_CASE(OP)                                                   \
  case Unary::OP:                                                           \
    if (n > kParallelGrain / 8) {                                           \
      _Pragma("omp parallel for")                                           \
      for (int64_t i = 0; i < n; ++i) y[i] = apply_unary(Unary::OP, x[i]);  \
    } else {                                                                \
      for (int64_t i = 0; i < n; ++i) y[i] = apply_unary(Unary::OP, x[i]);  \
    }                                                                       \
    return;
    GS_UNARY_CASE(neg) GS_UNARY_CASE(exp) GS_UNARY_CASE(log) GS_UNARY_CASE(sqrt)
    GS_UNARY_CASE(tanh) GS_UNARY_CASE(sigmoid) GS_UNARY_CASE(relu) GS_UNARY_CASE(gelu)
    GS_UNARY_CASE(silu) GS_UNARY_CASE(abs)
#undef GS_UNARY_CASE
  }
}

template <class T>
void unary_backward(Unary op, int64_t n, const T* x, const T* y, const T* gy, T* gx) {
  if constexpr (std::is_same_v<T, float>) {
    if (op == Unary::gelu) {
      parallel_blocks(n, kParallelGrain / 8,
                      [&](int64_t b, int64_t e) { vec::gelu_backward(e - b, x + b, gy + b, gx + b); });
      return;
    }
  }
#pragma omp parallel for if (n > kParallelGrain / 8)
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] * unary_grad(op, x[i], y[i]);
}

template <class T>
void binary(Binary op, int ndim, const int64_t* shape, const T* a, const int64_t* sa, const T* b,
            const int64_t* sb, T* out) {
  switch (op) {
#define GS_BINARY_CASE(OP)                                                                   \
  case Binary::OP:                                                                           \
    binary_loop(ndim, shape, a, sa, b, sb, out, [](T x, T y) { return apply_binary(Binary::OP, x, y); }); \
    return;
    GS_BINARY_CASE(add) GS_BINARY_CASE(sub) GS_BINARY_CASE(mul) GS_BINARY_CASE(div)
    GS_BINARY_CASE(pow) GS_BINARY_CASE(maximum) GS_BINARY_CASE(minimum) GS_BINARY_CASE(eq)
    GS_BINARY_CASE(lt) GS_BINARY_CASE(gt)
#undef GS_BINARY_CASE
  }
}

template <class C, class T>
void where(int ndim, const int64_t* shape, const C* cond, const int64_t* sc, const T* a,
           const int64_t* sa, const T* b, const int64_t* sb, T* out) {
  const int64_t ic = ndim ? sc[ndim - 1] : 0, ia = ndim ? sa[ndim - 1] : 0, ib = ndim ? sb[ndim - 1] : 0;
  T* o = out;
  detail::for_each_row<3>(ndim, shape, {sc, sa, sb}, [&](const auto& off, int64_t inner) {
    const C* pc = cond + off[0];
    const T* pa = a + off[1];
    const T* pb = b + off[2];
    for (int64_t i = 0; i < inner; ++i) o[i] = pc[i * ic] != C(0) ? pa[i * ia] : pb[i * ib];
    o += inner;
  });
}

template <class T>
void axpy(int64_t n, T alpha, const T* x, T* y) {
#pragma omp parallel for if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
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

}  // namespace gs::cpu
