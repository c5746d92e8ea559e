#include "tensor/linalg.h"

#include "ops_cpu/gemm.h"
#include "ops_cuda/gemm.h"
#include "tensor/convert.h"
#include "tensor/creation.h"
#include "tensor/dispatch.h"
#include "tensor/views.h"

namespace gs::op {
namespace {

// A matrix operand as BLAS sees it: base pointer offset, transpose flag, leading dim, batch stride.
struct Operand {
  Tensor t;  // keeps packed copies alive
  bool trans = false;
  int64_t ld = 0;
  int64_t batch_stride = 0;
};

// x: [batch..., R, C] already expanded to the output batch shape. Chooses a layout BLAS can read.
Operand prepare(const Tensor& x, bool want_trans) {
  const int64_t nd = x.dim();
  const int64_t R = x.shape()[nd - 2], C = x.shape()[nd - 1];
  const int64_t sr = x.strides()[nd - 2], sc = x.strides()[nd - 1];
  // batch dims must collapse to one stride (0 for a broadcast matrix)
  bool batch_ok = true;
  int64_t bstride = 0, expect = -1;
  for (int64_t d = nd - 3; d >= 0; --d) {
    if (x.shape()[d] == 1) continue;
    if (expect < 0) {
      bstride = x.strides()[d];
    } else if (x.strides()[d] != expect) {
      batch_ok = false;
    }
    expect = x.strides()[d] * x.shape()[d];
    if (bstride == 0 && x.strides()[d] != 0) batch_ok = false;
  }
  Operand o;
  if (batch_ok && (sc == 1 || C == 1) && sr >= std::max<int64_t>(C, 1)) {
    o = {x, want_trans, sr, bstride};
  } else if (batch_ok && (sr == 1 || R == 1) && sc >= std::max<int64_t>(R, 1)) {
    o = {x, !want_trans, sc, bstride};
  } else {
    Tensor c = clone(x);
    o = {c, want_trans, std::max<int64_t>(C, 1), R * C};
  }
  return o;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  if (a.dim() < 2 || b.dim() < 2)
    fail("matmul", "operands must be at least 2-d, got ", shape_str(a.shape()), " and ", shape_str(b.shape()));
  if (a.dtype() != b.dtype())
    fail("matmul", "dtype mismatch: ", dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
  if (a.device() != b.device())
    fail("matmul", "tensors on different devices: ", device_name(a.device()), " and ", device_name(b.device()));
  const int64_t na = a.dim(), nb = b.dim();
  const int64_t M = a.shape()[na - (trans_a ? 1 : 2)], K = a.shape()[na - (trans_a ? 2 : 1)];
  const int64_t K2 = b.shape()[nb - (trans_b ? 1 : 2)], N = b.shape()[nb - (trans_b ? 2 : 1)];
  if (K != K2) {
    if (!trans_a && !trans_b)
      fail("matmul", "shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()), " do not align");
    fail("matmul", "shapes ", shape_str(a.shape()), (trans_a ? "^T" : ""), " and ", shape_str(b.shape()),
         (trans_b ? "^T" : ""), " do not align");
  }
  const Shape ba(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes("matmul", ba, bb);
  const int64_t nbatch = numel_of(batch);
  Shape out_shape = batch;
  out_shape.push_back(M);
  out_shape.push_back(N);
  Tensor out = empty(out_shape, a.dtype(), a.device());
  if (out.numel() == 0) return out;

  Shape ea = batch, eb = batch;
  ea.insert(ea.end(), a.shape().end() - 2, a.shape().end());
  eb.insert(eb.end(), b.shape().end() - 2, b.shape().end());
  const Operand A = prepare(expand(a, ea), trans_a);
  const Operand B = prepare(expand(b, eb), trans_b);
  detail::dispatch_float("matmul", a.dtype(), [&]<class T>() {
    const T* pa = A.t.data<T>();
    const T* pb = B.t.data<T>();
    T* pc = out.data<T>();
    // A shared B (broadcast, batch stride 0) and A's batches being consecutive row blocks make
    // the batch one tall product [nbatch * M, K] x [K, N] (the output is already laid out that
    // way): one large gemm runs faster than nbatch small ones. Linear layers on [B, T, D] hit this.
    const bool fold = nbatch > 1 && B.batch_stride == 0 && !A.trans && A.batch_stride == M * A.ld;
    if (a.device() == Device::CPU) {
      if (nbatch == 1 || fold)
        cpu::gemm<T>(A.trans, B.trans, fold ? nbatch * M : M, N, K, T(1), pa, A.ld, pb, B.ld, T(0), pc, N);
      else
        cpu::gemm_batched<T>(nbatch, A.trans, B.trans, M, N, K, T(1), pa, A.ld, A.batch_stride, pb, B.ld,
                             B.batch_stride, T(0), pc, N, M * N);
    } else {
      detail::cuda_call([&] {
        cuda::gemm_batched<T>(nbatch, A.trans, B.trans, M, N, K, T(1), pa, A.ld, A.batch_stride, pb, B.ld,
                              B.batch_stride, T(0), pc, N, M * N);
      });
    }
  });
  return out;
}

Tensor matmul(const Tensor& a, const Tensor& b) { return matmul(a, b, false, false); }

}  // namespace gs::op
