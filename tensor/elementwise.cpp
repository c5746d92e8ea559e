#include "tensor/elementwise.h"

#include "ops_cuda/elementwise.h"
#include "tensor/convert.h"
#include "tensor/creation.h"
#include "tensor/dispatch.h"
#include "tensor/views.h"

namespace gs::op {
namespace {

void same_device(const char* op, const Tensor& a, const Tensor& b) {
  if (a.device() != b.device())
    fail(op, "tensors on different devices: ", device_name(a.device()), " ", shape_str(a.shape()), " and ",
         device_name(b.device()), " ", shape_str(b.shape()));
}

void same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype())
    fail(op, "dtype mismatch: ", dtype_name(a.dtype()), " ", shape_str(a.shape()), " and ", dtype_name(b.dtype()),
         " ", shape_str(b.shape()));
}

// Broadcast operands to `out` and merge adjacent dims that stay contiguous for every operand,
// so a broadcast add of [N, D] + [D] becomes one 2-d loop and a plain add one 1-d loop.
struct Plan {
  int ndim = 0;
  int64_t shape[16];
  int64_t strides[3][16];
};

Plan plan(const char* op, const Shape& out, std::initializer_list<const Tensor*> ins) {
  if (out.size() > 16) fail(op, "tensors of more than 16 dims are not supported, got ", shape_str(out));
  // Each operand's strides against `out`, right-aligned, 0 on broadcast dims (the caller has
  // checked that the shapes broadcast). Computed in place: no expanded views, no allocation.
  int64_t st[3][16];
  const int k = static_cast<int>(ins.size());
  int i = 0;
  for (const Tensor* t : ins) {
    const Shape& s = t->shape();
    const Shape& ts = t->strides();
    const size_t lead = out.size() - s.size();
    for (size_t d = 0; d < out.size(); ++d)
      st[i][d] = d < lead || s[d - lead] == 1 ? 0 : ts[d - lead];
    ++i;
  }
  Plan p;
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1) continue;  // size-1 dims contribute nothing
    if (p.ndim > 0) {
      bool merge = true;
      for (int j = 0; j < k; ++j)
        if (p.strides[j][p.ndim - 1] != st[j][d] * out[d]) merge = false;
      if (merge) {
        p.shape[p.ndim - 1] *= out[d];
        for (int j = 0; j < k; ++j) p.strides[j][p.ndim - 1] = st[j][d];
        continue;
      }
    }
    p.shape[p.ndim] = out[d];
    for (int j = 0; j < k; ++j) p.strides[j][p.ndim] = st[j][d];
    ++p.ndim;
  }
  return p;
}

}  // namespace

// One enum and one name table for both backends (ops_common/unary_ops.h, binary_ops.h).
const char* unary_name(Unary k) { return kernel::op_name(k); }
const char* binary_name(Binary k) { return kernel::op_name(k); }

Tensor unary(Unary kind, const Tensor& x_in) {
  const char* op = unary_name(kind);
  Tensor x = contiguous(x_in);
  Tensor y = empty(x.shape(), x.dtype(), x.device());
  detail::dispatch_float(op, x.dtype(), [&]<class T>() {
    if (x.device() == Device::CPU) cpu::unary<T>(kind, x.numel(), x.data<T>(), y.data<T>());
    else detail::cuda_call([&] { cuda::unary<T>(kind, x.numel(), x.data<T>(), y.data<T>()); });
  });
  return y;
}

Tensor unary_backward(Unary kind, const Tensor& x_in, const Tensor& y_in, const Tensor& gy_in) {
  const char* op = unary_name(kind);
  if (x_in.shape() != gy_in.shape() || y_in.shape() != x_in.shape())
    fail(op, "backward: gradient shape ", shape_str(gy_in.shape()), " does not match input ", shape_str(x_in.shape()));
  same_dtype(op, x_in, gy_in);
  same_device(op, x_in, gy_in);
  Tensor x = contiguous(x_in), y = contiguous(y_in), gy = contiguous(gy_in);
  Tensor gx = empty(x.shape(), x.dtype(), x.device());
  detail::dispatch_float(op, x.dtype(), [&]<class T>() {
    if (x.device() == Device::CPU)
      cpu::unary_backward<T>(kind, x.numel(), x.data<T>(), y.data<T>(), gy.data<T>(), gx.data<T>());
    else
      detail::cuda_call([&] {
        cuda::unary_backward<T>(kind, x.numel(), x.data<T>(), y.data<T>(), gy.data<T>(), gx.data<T>());
      });
  });
  return gx;
}

Tensor binary(Binary kind, const Tensor& a, const Tensor& b) {
  const char* op = binary_name(kind);
  same_dtype(op, a, b);
  same_device(op, a, b);
  if (kind == Binary::pow && a.dtype() == DType::Int64) fail(op, "int64 tensors are not supported");
  const Shape out_shape = broadcast_shapes(op, a.shape(), b.shape());
  Tensor out = empty(out_shape, a.dtype(), a.device());
  if (out.numel() == 0) return out;
  const Plan p = plan(op, out_shape, {&a, &b});
  detail::dispatch_all(a.dtype(), [&]<class T>() {
    if (a.device() == Device::CPU)
      cpu::binary<T>(kind, p.ndim, p.shape, a.data<T>(), p.strides[0], b.data<T>(), p.strides[1], out.data<T>());
    else
      detail::cuda_call([&] {
        cuda::binary<T>(kind, p.ndim, p.shape, a.data<T>(), p.strides[0], b.data<T>(), p.strides[1],
                        out.data<T>());
      });
  });
  return out;
}

Tensor binary(Binary kind, const Tensor& a, double b) { return binary(kind, a, scalar(b, a.dtype(), a.device())); }

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  same_dtype("where", a, b);
  same_device("where", a, b);
  same_device("where", cond, a);
  const Shape out_shape = broadcast_shapes("where", cond.shape(), broadcast_shapes("where", a.shape(), b.shape()));
  Tensor out = empty(out_shape, a.dtype(), a.device());
  if (out.numel() == 0) return out;
  const Plan p = plan("where", out_shape, {&cond, &a, &b});
  detail::dispatch_all(cond.dtype(), [&]<class C>() {
    detail::dispatch_all(a.dtype(), [&]<class T>() {
      if (a.device() == Device::CPU)
        cpu::where<C, T>(p.ndim, p.shape, cond.data<C>(), p.strides[0], a.data<T>(), p.strides[1], b.data<T>(),
                         p.strides[2], out.data<T>());
      else
        detail::cuda_call([&] {
          cuda::where<C, T>(p.ndim, p.shape, cond.data<C>(), p.strides[0], a.data<T>(), p.strides[1], b.data<T>(),
                            p.strides[2], out.data<T>());
        });
    });
  });
  return out;
}

void axpy_(const Tensor& y, double alpha, const Tensor& x_in) {
  if (!y.is_contiguous()) fail("axpy_", "destination must be contiguous");
  if (y.shape() != x_in.shape())
    fail("axpy_", "shapes ", shape_str(y.shape()), " and ", shape_str(x_in.shape()), " differ");
  same_dtype("axpy_", y, x_in);
  same_device("axpy_", y, x_in);
  Tensor x = contiguous(x_in);
  detail::dispatch_all(y.dtype(), [&]<class T>() {
    if (y.device() == Device::CPU) cpu::axpy<T>(y.numel(), static_cast<T>(alpha), x.data<T>(), y.data<T>());
    else detail::cuda_call([&] { cuda::axpy<T>(y.numel(), static_cast<T>(alpha), x.data<T>(), y.data<T>()); });
  });
}

}  // namespace gs::op
