#include "tensor/softmax.h"

#include "ops_cpu/softmax.h"
#include "ops_cuda/softmax.h"
#include "tensor/convert.h"
#include "tensor/creation.h"
#include "tensor/dispatch.h"

namespace gs::op {
namespace {

// [rows, cols] view of a tensor normalised over its last axis.
struct Rows {
  int64_t rows, cols;
};
Rows rows_of(const Tensor& x) {
  const int64_t cols = x.dim() > 0 ? x.shape().back() : 1;
  return {cols > 0 ? x.numel() / cols : 0, cols};
}

template <bool Log>
Tensor forward(const Tensor& x_in) {
  const char* op = Log ? "log_softmax" : "softmax";
  Tensor x = contiguous(x_in);
  Tensor y = empty(x.shape(), x.dtype(), x.device());
  // plain variables, not a structured binding: the dispatch lambdas capture them (Clang 14, the
  // fuzz build's compiler, cannot capture bindings)
  const Rows shape = rows_of(x);
  const int64_t rows = shape.rows, cols = shape.cols;
  detail::dispatch_float(op, x.dtype(), [&]<class T>() {
    if (rows == 0) return;
    if (x.device() == Device::CPU) {
      if constexpr (Log) cpu::log_softmax_rows<T>(rows, cols, x.data<T>(), y.data<T>());
      else cpu::softmax_rows<T>(rows, cols, x.data<T>(), y.data<T>());
    } else {
      detail::cuda_call([&] {
        if constexpr (Log) cuda::log_softmax_rows<T>(rows, cols, x.data<T>(), y.data<T>());
        else cuda::softmax_rows<T>(rows, cols, x.data<T>(), y.data<T>());
      });
    }
  });
  return y;
}

template <bool Log>
Tensor backward(const Tensor& y_in, const Tensor& gy_in) {
  const char* op = Log ? "log_softmax_backward" : "softmax_backward";
  if (y_in.shape() != gy_in.shape())
    fail(op, "gradient shape ", shape_str(gy_in.shape()), " does not match output ", shape_str(y_in.shape()));
  if (y_in.dtype() != gy_in.dtype())
    fail(op, "dtype mismatch: ", dtype_name(y_in.dtype()), " ", shape_str(y_in.shape()), " and ",
         dtype_name(gy_in.dtype()), " ", shape_str(gy_in.shape()));
  if (y_in.device() != gy_in.device())
    fail(op, "tensors on different devices: ", device_name(y_in.device()), " and ", device_name(gy_in.device()));
  Tensor y = contiguous(y_in), gy = contiguous(gy_in);
  Tensor gx = empty(y.shape(), y.dtype(), y.device());
  const Rows shape = rows_of(y);
  const int64_t rows = shape.rows, cols = shape.cols;  // captured below: no structured binding
  detail::dispatch_float(op, y.dtype(), [&]<class T>() {
    if (rows == 0) return;
    if (y.device() == Device::CPU) {
      if constexpr (Log) cpu::log_softmax_backward_rows<T>(rows, cols, y.data<T>(), gy.data<T>(), gx.data<T>());
      else cpu::softmax_backward_rows<T>(rows, cols, y.data<T>(), gy.data<T>(), gx.data<T>());
    } else {
      detail::cuda_call([&] {
        if constexpr (Log) cuda::log_softmax_backward_rows<T>(rows, cols, y.data<T>(), gy.data<T>(), gx.data<T>());
        else cuda::softmax_backward_rows<T>(rows, cols, y.data<T>(), gy.data<T>(), gx.data<T>());
      });
    }
  });
  return gx;
}

}  // namespace

Tensor softmax(const Tensor& x) { return forward<false>(x); }
Tensor log_softmax(const Tensor& x) { return forward<true>(x); }
Tensor softmax_backward(const Tensor& y, const Tensor& gy) { return backward<false>(y, gy); }
Tensor log_softmax_backward(const Tensor& y, const Tensor& gy) { return backward<true>(y, gy); }

}  // namespace gs::op
