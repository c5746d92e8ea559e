#pragma once
// How a kernel family's contract is written once, below both backends (DESIGN.md, "Layers").
//
// ops_common/<family>.h documents every kernel of the family (shapes, aliasing, edge cases) and
// lists it in one X-macro, one line per kernel:
//
//   X(TPARAMS, RET, NAME, STUB_OP, PARAMS)
//     TPARAMS  the template parameters, parenthesised: (class T) or (class C, class T)
//     RET      the return type
//     NAME     the function, the same in gs::cpu and gs::cuda
//     STUB_OP  what a build without CUDA names in "<STUB_OP>: no CUDA implementation in this build"
//     PARAMS   the parameter list, parenthesised, written with the template parameters' names
//
// Each family header defines two macros from its list:
//   GS_<FAMILY>_KERNELS(X)    expands X once per kernel, with the template parameters' own names;
//   GS_<FAMILY>_INSTANTIATE   every explicit instantiation the tensor layer links against (the
//                             family's type list, written once).
// and every backend turns them into code with one line each:
//   ops_cpu/<family>.h, ops_cuda/<family>.h   GS_<FAMILY>_KERNELS(GS_KERNEL_DECLARE)  (in gs::cpu / gs::cuda)
//   ops_cpu/<family>.cpp, ops_cuda/<family>.cu  GS_<FAMILY>_INSTANTIATE           (after the definitions)
//   ops_cuda/stub/kernels.cpp                 GS_<FAMILY>_KERNELS(GS_KERNEL_STUB) GS_<FAMILY>_INSTANTIATE
// so the names, signatures and type lists cannot drift apart between the CPU backend, the CUDA
// backend and the stub. Kernels that only one backend has (the CPU's fused cross-entropy, the CUDA
// backend's TF32 switch) are declared in that backend's header as usual.
//
// The instantiation list passes concrete types where the template parameters' names stood, so an
// entry expands to e.g. `template void axpy(int64_t n, float alpha, const float* x, float* y);`:
// an explicit instantiation whose template arguments are deduced from the parameters (every
// kernel's template parameters appear in its parameter types). TPARAMS is ignored there.
//
// A list macro's parameters (X, T, C) must not be the name of any kernel parameter in it, or the
// preprocessor would replace that too (linalg_lapack.h names its list parameter ENTRY for that).
//
// Pitfall of X-macros: a list macro must not be used inside its own expansion (the preprocessor
// would leave the inner use unexpanded), which is why the type lists below are only ever applied
// to per-family helpers, never nested in themselves.

// (a, b) -> a, b: strips the parentheses that keep a comma-separated list one macro argument.
#define GS_UNPAREN(...) __VA_ARGS__

// One declaration per kernel (used inside namespace gs::cpu and namespace gs::cuda).
#define GS_KERNEL_DECLARE(TPARAMS, RET, NAME, STUB_OP, PARAMS) template <GS_UNPAREN TPARAMS> RET NAME PARAMS;

// One explicit instantiation per kernel (PARAMS already written with concrete types).
#define GS_KERNEL_INSTANTIATE(TPARAMS, RET, NAME, STUB_OP, PARAMS) template RET NAME PARAMS;

// The element types a kernel family is instantiated for: F(T) once per type.
#define GS_FLOAT_TYPES(F) F(float) F(double)
#define GS_ALL_TYPES(F) F(float) F(double) F(int64_t)
