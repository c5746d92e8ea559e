#include "ops_cpu/elementwise.h"

#include <type_traits>

#include "ops_common/binary_ops.h"
#include "ops_common/unary_ref.h"
#include "ops_cpu/strided.h"
#include "ops_cpu/threads.h"
#include "ops_cpu/vec_math.h"

namespace gs::cpu {
namespace {

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

// The per-element formulas are ops_common/unary_ref.h's; visit_unary hoists the op out of the
// loop, so each op gets its own loop (the switch never runs per element).
template <class T>
void unary(Unary op, int64_t n, const T* x, T* y) {
  if constexpr (std::is_same_v<T, float>) {
    if (op == Unary::gelu) {  // the GPT's MLP: vectorised tanh (vec_math.h)
      parallel_blocks(n, kParallelGrain / 8, [&](int64_t b, int64_t e) { vec::gelu(e - b, x + b, y + b); });
      return;
    }
  }
  kernel::visit_unary(op, [&]<Unary OP>() {
    // Branch around the pragma: an `if` clause still enters the OpenMP runtime (see binary_loop).
    if (n > kParallelGrain / 8) {
#pragma omp parallel for
      for (int64_t i = 0; i < n; ++i) y[i] = kernel::unary_f<OP>(x[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) y[i] = kernel::unary_f<OP>(x[i]);
    }
  });
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
  kernel::visit_unary(op, [&]<Unary OP>() {
#pragma omp parallel for if (n > kParallelGrain / 8)
    for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] * kernel::unary_df<OP>(x[i], y[i]);
  });
}

template <class T>
void binary(Binary op, int ndim, const int64_t* shape, const T* a, const int64_t* sa, const T* b,
            const int64_t* sb, T* out) {
  kernel::visit_binary(op, [&]<Binary OP>() {
    binary_loop(ndim, shape, a, sa, b, sb, out, [](T u, T v) { return kernel::binary_f<OP>(u, v); });
  });
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

GS_ELEMENTWISE_INSTANTIATE

}  // namespace gs::cpu
