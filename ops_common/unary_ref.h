#pragma once
// The scalar reference of every unary op: f and f' written once, as functions both backends
// compile (GS_HOST_DEVICE). The CPU's scalar loop and the CUDA kernels call them per element; the
// vectorised float32 GELU (ops_cpu/vec_math.cpp) shares GELU's pieces and only computes tanh its
// own way. tests/test_kernels_unary_ref.cpp checks each f' against central differences of f, the
// CPU kernels and vec_math against these functions, and the CUDA kernels against them on a device.
//
// UnaryRef<Unary::name> holds, for T = float and double:
//   f(x)      y = f(x)
//   df(x, y)  dy/dx at x, given y = f(x) too (some derivatives are cheapest from the output)
// The formulas and their order of operations are the ones the kernels always used: moving them
// here changed no bit of any result.
#include "ops_common/scalar_math.h"
#include "ops_common/unary_ops.h"

namespace gs::kernel {

template <Unary OP>
struct UnaryRef;  // one specialisation per op of GS_UNARY_OPS: a missing one fails to compile

// y = -x, dy/dx = -1
template <>
struct UnaryRef<Unary::neg> {
  template <class T>
  static GS_HOST_DEVICE T f(T x) { return -x; }
  template <class T>
  static GS_HOST_DEVICE T df(T, T) { return T(-1); }
};

// y = e^x, dy/dx = y
template <>
struct UnaryRef<Unary::exp> {
  template <class T>
  static GS_HOST_DEVICE T f(T x) { return math::exp(x); }
  template <class T>
  static GS_HOST_DEVICE T df(T, T y) { return y; }
};

// y = ln x, dy/dx = 1 / x (x > 0; NaN below 0, -inf at 0, as the standard library gives)
template <>
struct UnaryRef<Unary::log> {
  template <class T>
  static GS_HOST_DEVICE T f(T x) { return math::log(x); }
  template <class T>
  static GS_HOST_DEVICE T df(T x, T) { return T(1) / x; }
};

// y = sqrt x, dy/dx = 1 / (2 y)
template <>
struct UnaryRef<Unary::sqrt> {
  template <class T>
  static GS_HOST_DEVICE T f(T x) { return math::sqrt(x); }
  template <class T>
  static GS_HOST_DEVICE T df(T, T y) { return T(0.5) / y; }
};

// y = tanh x, dy/dx = 1 - y^2
template <>
struct UnaryRef<Unary::tanh> {
  template <class T>
  static GS_HOST_DEVICE T f(T x) { return math::tanh(x); }
  template <class T>
  static GS_HOST_DEVICE T df(T, T y) { return T(1) - y * y; }
};

// y = 1 / (1 + e^-x), dy/dx = y (1 - y)
template <>
struct UnaryRef<Unary::sigmoid> {
  template <class T>
  static GS_HOST_DEVICE T f(T x) {
    // split on sign so exp never overflows
    if (x >= 0) return T(1) / (T(1) + math::exp(-x));
    const T e = math::exp(x);
    return e / (T(1) + e);
  }
  template <class T>
  static GS_HOST_DEVICE T df(T, T y) { return y * (T(1) - y); }
};

// y = max(x, 0), dy/dx = 1 for x > 0, else 0
template <>
struct UnaryRef<Unary::relu> {
  template <class T>
  static GS_HOST_DEVICE T f(T x) { return x > 0 ? x : T(0); }
  template <class T>
  static GS_HOST_DEVICE T df(T x, T) { return x > 0 ? T(1) : T(0); }
};

// GELU, tanh form: y = 0.5 x (1 + t), t = tanh(u), u = k (x + c x^3), k = sqrt(2 / pi),
// c = 0.044715; dy/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2).
// u, f_from_tanh and df_from_tanh are the pieces around tanh, shared with the vectorised float32
// path, which computes t = tanh(u) as 1 - 2 / (exp(2u) + 1) (ops_cpu/vec_math.cpp).
template <>
struct UnaryRef<Unary::gelu> {
  static constexpr double k = 0.7978845608028654;  // sqrt(2 / pi)
  static constexpr double c = 0.044715;
  template <class T>
  static GS_HOST_DEVICE T u(T x) { return T(k) * (x + T(c) * x * x * x); }
  template <class T>
  static GS_HOST_DEVICE T f_from_tanh(T x, T t) { return T(0.5) * x * (T(1) + t); }
  template <class T>
  static GS_HOST_DEVICE T df_from_tanh(T x, T t) {
    return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * T(k) * (T(1) + T(3) * T(c) * x * x);
  }
  template <class T>
  static GS_HOST_DEVICE T f(T x) { return f_from_tanh(x, math::tanh(u(x))); }
  template <class T>
  static GS_HOST_DEVICE T df(T x, T) { return df_from_tanh(x, math::tanh(u(x))); }
};

// y = x sigmoid(x), dy/dx = s (1 + x (1 - s)) with s = sigmoid(x)
template <>
struct UnaryRef<Unary::silu> {
  template <class T>
  static GS_HOST_DEVICE T f(T x) { return x * UnaryRef<Unary::sigmoid>::f(x); }
  template <class T>
  static GS_HOST_DEVICE T df(T x, T) {
    const T s = UnaryRef<Unary::sigmoid>::f(x);
    return s * (T(1) + x * (T(1) - s));
  }
};

// y = |x|, dy/dx = sign(x) (0 at 0)
template <>
struct UnaryRef<Unary::abs> {
  template <class T>
  static GS_HOST_DEVICE T f(T x) { return math::abs(x); }
  template <class T>
  static GS_HOST_DEVICE T df(T x, T) { return x > 0 ? T(1) : (x < 0 ? T(-1) : T(0)); }
};

// The table's op OP, by enum: what the kernels call.
template <Unary OP, class T>
GS_HOST_DEVICE T unary_f(T x) {
  return UnaryRef<OP>::f(x);
}
template <Unary OP, class T>
GS_HOST_DEVICE T unary_df(T x, T y) {
  return UnaryRef<OP>::df(x, y);
}

}  // namespace gs::kernel
