#pragma once
// Elementwise tensor ops with NumPy broadcasting. No graph: see autograd/ops.h for the
// differentiable versions.
#include "ops_cpu/elementwise.h"
#include "tensor/tensor.h"

namespace gs::op {

using cpu::Binary;
using cpu::Unary;

Tensor unary(Unary kind, const Tensor& x);
// gx = gy * f'(x), with y = f(x) (see cpu::unary_backward).
Tensor unary_backward(Unary kind, const Tensor& x, const Tensor& y, const Tensor& gy);
Tensor binary(Binary kind, const Tensor& a, const Tensor& b);
Tensor binary(Binary kind, const Tensor& a, double b);  // b as a scalar of a's dtype
// cond != 0 ? a : b, all three broadcast together; a and b share dtype, cond any dtype.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// y += alpha * x in place; y contiguous, x the same shape, dtype and device.
void axpy_(const Tensor& y, double alpha, const Tensor& x);

inline Tensor neg(const Tensor& x) { return unary(Unary::neg, x); }
inline Tensor exp(const Tensor& x) { return unary(Unary::exp, x); }
inline Tensor log(const Tensor& x) { return unary(Unary::log, x); }
inline Tensor sqrt(const Tensor& x) { return unary(Unary::sqrt, x); }
inline Tensor tanh(const Tensor& x) { return unary(Unary::tanh, x); }
inline Tensor sigmoid(const Tensor& x) { return unary(Unary::sigmoid, x); }
inline Tensor relu(const Tensor& x) { return unary(Unary::relu, x); }
inline Tensor gelu(const Tensor& x) { return unary(Unary::gelu, x); }
inline Tensor silu(const Tensor& x) { return unary(Unary::silu, x); }
inline Tensor abs(const Tensor& x) { return unary(Unary::abs, x); }

inline Tensor add(const Tensor& a, const Tensor& b) { return binary(Binary::add, a, b); }
inline Tensor sub(const Tensor& a, const Tensor& b) { return binary(Binary::sub, a, b); }
inline Tensor mul(const Tensor& a, const Tensor& b) { return binary(Binary::mul, a, b); }
inline Tensor div(const Tensor& a, const Tensor& b) { return binary(Binary::div, a, b); }
inline Tensor pow(const Tensor& a, const Tensor& b) { return binary(Binary::pow, a, b); }
inline Tensor maximum(const Tensor& a, const Tensor& b) { return binary(Binary::maximum, a, b); }
inline Tensor minimum(const Tensor& a, const Tensor& b) { return binary(Binary::minimum, a, b); }
inline Tensor eq(const Tensor& a, const Tensor& b) { return binary(Binary::eq, a, b); }
inline Tensor lt(const Tensor& a, const Tensor& b) { return binary(Binary::lt, a, b); }
inline Tensor gt(const Tensor& a, const Tensor& b) { return binary(Binary::gt, a, b); }
inline Tensor add(const Tensor& a, double b) { return binary(Binary::add, a, b); }
inline Tensor sub(const Tensor& a, double b) { return binary(Binary::sub, a, b); }
inline Tensor mul(const Tensor& a, double b) { return binary(Binary::mul, a, b); }
inline Tensor div(const Tensor& a, double b) { return binary(Binary::div, a, b); }
inline Tensor pow(const Tensor& a, double b) { return binary(Binary::pow, a, b); }
inline Tensor gt(const Tensor& a, double b) { return binary(Binary::gt, a, b); }
inline Tensor lt(const Tensor& a, double b) { return binary(Binary::lt, a, b); }
inline Tensor eq(const Tensor& a, double b) { return binary(Binary::eq, a, b); }

const char* unary_name(Unary kind);
const char* binary_name(Binary kind);

}  // namespace gs::op
