#pragma once
// The unary elementwise ops: one table that both backends, the stub and the tensor layer read.
//
// GS_UNARY_OPS(X) calls X(name) once per op. From it come the enum (one enumerator per op, in
// table order), the op's printed name, and visit_unary, the switch that turns a run-time op into
// a compile-time one: the CPU loop (ops_cpu/elementwise.cpp) and the CUDA kernel launch
// (ops_cuda/elementwise.cu) are each written once for every op, over that switch. An op's scalar
// f and f' live in ops_common/unary_ref.h (UnaryRef<Unary::name>); docs/ADDING_AN_OP.md lists
// every file a new op touches.
//
// Append new ops at the end: the host emulator of the CUDA backend (tests/cuda_emulator)
// static_asserts the position of `abs`.

#define GS_UNARY_OPS(X) X(neg) X(exp) X(log) X(sqrt) X(tanh) X(sigmoid) X(relu) X(gelu) X(silu) X(abs)

namespace gs::kernel {

enum class Unary {
#define GS_UNARY_ENUMERATOR(name) name,
  GS_UNARY_OPS(GS_UNARY_ENUMERATOR)
#undef GS_UNARY_ENUMERATOR
};

// Every op, in table order (for tests that run each op).
inline constexpr Unary kUnaryOps[] = {
#define GS_UNARY_LISTED(name) Unary::name,
    GS_UNARY_OPS(GS_UNARY_LISTED)
#undef GS_UNARY_LISTED
};
inline constexpr int kUnaryCount = static_cast<int>(sizeof(kUnaryOps) / sizeof(kUnaryOps[0]));

// "neg", "exp", ...: the name the op has everywhere (errors, the autograd registry, node names).
constexpr const char* op_name(Unary op) {
  switch (op) {
#define GS_UNARY_NAME(name) \
  case Unary::name: return #name;
    GS_UNARY_OPS(GS_UNARY_NAME)
#undef GS_UNARY_NAME
  }
  return "unary";
}

// f.template operator()<OP>() with OP the compile-time twin of op, e.g.
//   visit_unary(op, [&]<Unary OP>() { for (...) y[i] = unary_f<OP>(x[i]); });
template <class F>
void visit_unary(Unary op, F&& f) {
  switch (op) {
#define GS_UNARY_VISIT(name)                  \
  case Unary::name:                           \
    f.template operator()<Unary::name>();     \
    return;
    GS_UNARY_OPS(GS_UNARY_VISIT)
#undef GS_UNARY_VISIT
  }
}

}  // namespace gs::kernel
