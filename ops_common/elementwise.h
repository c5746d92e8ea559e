#pragma once
// Contract of the elementwise kernels (gs::cpu and gs::cuda; see ops_common/contract.h for how
// the list below becomes declarations, instantiations and the stub). Outputs are contiguous;
// inputs of binary/ternary kernels are strided so the tensor layer can pass broadcast operands
// (stride 0) without materialising them. Pointers are host pointers for gs::cpu and device
// pointers for gs::cuda; shapes and strides are host arrays for both.
//
// unary           y[i] = f(x[i]), f = UnaryRef<op>::f (ops_common/unary_ref.h). x, y: [n]
//                 contiguous. T: float, double.
// unary_backward  gx[i] = gy[i] * f'(x[i]), f' = UnaryRef<op>::df, given y = f(x) as well because
//                 some derivatives are cheapest from the output. x, y, gy, gx: [n] contiguous.
//                 T: float, double.
// binary          out[i] = a[i] (op) b[i] over the row-major index space `shape` (ndim <= 16); a and
//                 b are read through their own element strides (0 on broadcast dims); out is
//                 contiguous. Comparisons (eq, lt, gt) write 1 or 0. T: float, double, int64_t
//                 (pow: float/double only).
// axpy            y[i] += alpha * x[i], x, y: [n] (in-place accumulation used for gradient sums and
//                 optimisers). T: float, double, int64_t.
// where           out[i] = cond[i] != 0 ? a[i] : b[i], all three strided as in binary. The condition
//                 has its own type C. C, T: float, double, int64_t (all nine pairs).
#include <cstdint>

#include "ops_common/binary_ops.h"
#include "ops_common/contract.h"
#include "ops_common/unary_ops.h"

#define GS_ELEMENTWISE_FLOAT_KERNELS(X, T)                                                                  \
  X((class T), void, unary, "unary", (::gs::kernel::Unary op, int64_t n, const T* x, T* y))                \
  X((class T), void, unary_backward, "unary_backward",                                                     \
    (::gs::kernel::Unary op, int64_t n, const T* x, const T* y, const T* gy, T* gx))
#define GS_ELEMENTWISE_ALL_KERNELS(X, T)                                                                    \
  X((class T), void, binary, "binary",                                                                     \
    (::gs::kernel::Binary op, int ndim, const int64_t* shape, const T* a, const int64_t* a_strides,        \
     const T* b, const int64_t* b_strides, T* out))                                                         \
  X((class T), void, axpy, "axpy", (int64_t n, T alpha, const T* x, T* y))
#define GS_ELEMENTWISE_WHERE_KERNELS(X, C, T)                                                               \
  X((class C, class T), void, where, "where",                                                              \
    (int ndim, const int64_t* shape, const C* cond, const int64_t* c_strides, const T* a,                  \
     const int64_t* a_strides, const T* b, const int64_t* b_strides, T* out))

#define GS_ELEMENTWISE_KERNELS(X) \
  GS_ELEMENTWISE_FLOAT_KERNELS(X, T) GS_ELEMENTWISE_ALL_KERNELS(X, T) GS_ELEMENTWISE_WHERE_KERNELS(X, C, T)

#define GS_ELEMENTWISE_INSTANTIATE_FLOAT(T) GS_ELEMENTWISE_FLOAT_KERNELS(GS_KERNEL_INSTANTIATE, T)
#define GS_ELEMENTWISE_INSTANTIATE_ALL(T) GS_ELEMENTWISE_ALL_KERNELS(GS_KERNEL_INSTANTIATE, T)
#define GS_ELEMENTWISE_INSTANTIATE_WHERE(C)                     \
  GS_ELEMENTWISE_WHERE_KERNELS(GS_KERNEL_INSTANTIATE, C, float) \
  GS_ELEMENTWISE_WHERE_KERNELS(GS_KERNEL_INSTANTIATE, C, double) \
  GS_ELEMENTWISE_WHERE_KERNELS(GS_KERNEL_INSTANTIATE, C, int64_t)
#define GS_ELEMENTWISE_INSTANTIATE                                                            \
  GS_FLOAT_TYPES(GS_ELEMENTWISE_INSTANTIATE_FLOAT) GS_ALL_TYPES(GS_ELEMENTWISE_INSTANTIATE_ALL) \
  GS_ALL_TYPES(GS_ELEMENTWISE_INSTANTIATE_WHERE)
