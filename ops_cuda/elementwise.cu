// Elementwise kernels on the device (ops_cuda/elementwise.h). The per-element formulas are the
// scalar references the CPU runs too (ops_common/unary_ref.h, binary_ops.h), compiled here for the
// device; kernel::visit_unary / visit_binary turn the run-time op into a template argument, so
// each op gets its own kernel with no switch inside.
#include "ops_common/binary_ops.h"
#include "ops_common/unary_ref.h"
#include "ops_cuda/check.h"
#include "ops_cuda/context.h"
#include "ops_cuda/elementwise.h"
#include "ops_cuda/kernels.cuh"

namespace gs::cuda {
namespace {

using detail::Strided;

#define GS_GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); i += int64_t{gridDim.x} * blockDim.x)

// x, y: [n] contiguous.
template <Unary OP, class T>
__global__ void unary_kernel(int64_t n, const T* __restrict__ x, T* __restrict__ y) {
  GS_GRID_STRIDE(i, n) y[i] = kernel::unary_f<OP>(x[i]);
}

// x, y, gy, gx: [n] contiguous.
template <Unary OP, class T>
__global__ void unary_backward_kernel(int64_t n, const T* __restrict__ x, const T* __restrict__ y,
                                      const T* __restrict__ gy, T* __restrict__ gx) {
  GS_GRID_STRIDE(i, n) gx[i] = gy[i] * kernel::unary_df<OP>(x[i], y[i]);
}

// out: [n] contiguous over the index space s.shape; a, b read through s.strides[0], s.strides[1]
// (stride 0 on broadcast dims). After coalescing, ndim <= 1 needs no index arithmetic.
template <Binary OP, class T>
__global__ void binary_kernel(Strided<2> s, int64_t n, const T* __restrict__ a, const T* __restrict__ b,
                              T* __restrict__ out) {
  if (s.ndim <= 1) {
    const int64_t sa = s.ndim ? s.strides[0][0] : 0, sb = s.ndim ? s.strides[1][0] : 0;
    GS_GRID_STRIDE(i, n) out[i] = kernel::binary_f<OP>(a[i * sa], b[i * sb]);
    return;
  }
  GS_GRID_STRIDE(i, n) {
    int64_t off[2];
    detail::offsets_of(s, i, off);
    out[i] = kernel::binary_f<OP>(a[off[0]], b[off[1]]);
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

}  // namespace

template <class T>
void unary(Unary op, int64_t n, const T* x, T* y) {
  if (n <= 0) return;
  const char* name = kernel::op_name(op);
  cudaStream_t st = detail::stream(name);
  kernel::visit_unary(op, [&]<Unary OP>() {
    unary_kernel<OP, T><<<detail::grid_for(n), detail::kThreads, 0, st>>>(n, x, y);
  });
  GS_CUDA_CHECK_LAUNCH(name, "unary_kernel");
}

template <class T>
void unary_backward(Unary op, int64_t n, const T* x, const T* y, const T* gy, T* gx) {
  if (n <= 0) return;
  const char* name = kernel::op_name(op);
  cudaStream_t st = detail::stream(name);
  kernel::visit_unary(op, [&]<Unary OP>() {
    unary_backward_kernel<OP, T><<<detail::grid_for(n), detail::kThreads, 0, st>>>(n, x, y, gy, gx);
  });
  GS_CUDA_CHECK_LAUNCH(name, "unary_backward_kernel");
}

template <class T>
void binary(Binary op, int ndim, const int64_t* shape, const T* a, const int64_t* a_strides, const T* b,
            const int64_t* b_strides, T* out) {
  const char* name = kernel::op_name(op);
  Strided<2> s = detail::make_strided<2>(name, ndim, shape, {a_strides, b_strides});
  const int64_t n = detail::numel(ndim, shape);
  if (n == 0) return;
  detail::coalesce(s);
  cudaStream_t st = detail::stream(name);
  kernel::visit_binary(op, [&]<Binary OP>() {
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

GS_ELEMENTWISE_INSTANTIATE

}  // namespace gs::cuda
