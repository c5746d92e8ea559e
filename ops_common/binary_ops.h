#pragma once
// The binary elementwise ops: one table for both backends, the stub and the tensor layer, and the
// scalar formula of each op, compiled by both backends (GS_HOST_DEVICE). Binary ops have no
// kernel-side derivative: their vjps are composed of tensor ops in autograd/ops/elementwise.cpp.
//
// GS_BINARY_OPS(X) calls X(name) once per op; the enum, the printed names and visit_binary (the
// run-time -> compile-time switch) come from it, as for the unary ops (ops_common/unary_ops.h).
// Append new ops at the end (tests/cuda_emulator static_asserts the position of `gt`).
#include <type_traits>

#include "ops_common/scalar_math.h"

#define GS_BINARY_OPS(X) X(add) X(sub) X(mul) X(div) X(pow) X(maximum) X(minimum) X(eq) X(lt) X(gt)

namespace gs::kernel {

enum class Binary {
#define GS_BINARY_ENUMERATOR(name) name,
  GS_BINARY_OPS(GS_BINARY_ENUMERATOR)
#undef GS_BINARY_ENUMERATOR
};

inline constexpr Binary kBinaryOps[] = {
#define GS_BINARY_LISTED(name) Binary::name,
    GS_BINARY_OPS(GS_BINARY_LISTED)
#undef GS_BINARY_LISTED
};
inline constexpr int kBinaryCount = static_cast<int>(sizeof(kBinaryOps) / sizeof(kBinaryOps[0]));

constexpr const char* op_name(Binary op) {
  switch (op) {
#define GS_BINARY_NAME(name) \
  case Binary::name: return #name;
    GS_BINARY_OPS(GS_BINARY_NAME)
#undef GS_BINARY_NAME
  }
  return "binary";
}

// f.template operator()<OP>() with OP the compile-time twin of op.
template <class F>
void visit_binary(Binary op, F&& f) {
  switch (op) {
#define GS_BINARY_VISIT(name)                 \
  case Binary::name:                          \
    f.template operator()<Binary::name>();    \
    return;
    GS_BINARY_OPS(GS_BINARY_VISIT)
#undef GS_BINARY_VISIT
  }
}

// out = a (OP) b. Comparisons give 1 or 0. T: float, double, int64_t (pow: float and double; the
// tensor layer rejects int64 pow before any kernel runs).
template <Binary OP, class T>
GS_HOST_DEVICE T binary_f(T a, T b) {
  if constexpr (OP == Binary::add) return a + b;
  else if constexpr (OP == Binary::sub) return a - b;
  else if constexpr (OP == Binary::mul) return a * b;
  else if constexpr (OP == Binary::div) return a / b;
  else if constexpr (OP == Binary::pow) {
    if constexpr (std::is_floating_point_v<T>) return math::pow(a, b);
    else return a;  // unreachable: rejected by the tensor layer
  } else if constexpr (OP == Binary::maximum) return a > b ? a : b;
  else if constexpr (OP == Binary::minimum) return a < b ? a : b;
  else if constexpr (OP == Binary::eq) return a == b ? T(1) : T(0);
  else if constexpr (OP == Binary::lt) return a < b ? T(1) : T(0);
  else {
    static_assert(OP == Binary::gt, "binary_f: an op of GS_BINARY_OPS has no formula here");
    return a > b ? T(1) : T(0);
  }
}

}  // namespace gs::kernel
