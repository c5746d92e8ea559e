#include "tensor/norm.h"

#include "ops_cpu/norm.h"
#include "ops_cuda/norm.h"
#include "tensor/convert.h"
#include "tensor/creation.h"
#include "tensor/dispatch.h"

namespace gs::op {
namespace {

// The shape of the per-row statistics: x's shape without its last dim.
Shape stats_shape(const Shape& s) { return Shape(s.begin(), s.end() - 1); }

// x: at least 1-d, floating point.
void check_input(const char* op, const Tensor& x) {
  if (x.dim() < 1) fail(op, "input must have at least 1 dim, got a scalar");
  if (x.dtype() == kInt64) fail(op, "expected a floating-point input, got int64 ", shape_str(x.shape()));
}

// gamma/beta (when defined): shape [D], x's dtype and device.
void check_param(const char* op, const char* what, const Tensor& p, const Tensor& x) {
  if (!p.defined()) return;
  if (p.shape() != Shape{x.shape().back()})
    fail(op, what, " shape ", shape_str(p.shape()), " does not match the last dim of input ", shape_str(x.shape()));
  if (p.dtype() != x.dtype())
    fail(op, what, " dtype ", dtype_name(p.dtype()), " does not match input dtype ", dtype_name(x.dtype()));
  if (p.device() != x.device())
    fail(op, what, " on ", device_name(p.device()), " but input ", shape_str(x.shape()), " on ",
         device_name(x.device()));
}

// gy like x; a statistic shaped like x without its last dim; same dtype and device as x.
void check_like(const char* op, const char* what, const Tensor& t, const Shape& shape, const Tensor& x) {
  if (!t.defined()) fail(op, what, " is undefined");
  if (t.shape() != shape)
    fail(op, what, " shape ", shape_str(t.shape()), " does not match ", shape_str(shape), " for input ",
         shape_str(x.shape()));
  if (t.dtype() != x.dtype())
    fail(op, what, " dtype ", dtype_name(t.dtype()), " does not match input dtype ", dtype_name(x.dtype()));
  if (t.device() != x.device())
    fail(op, what, " on ", device_name(t.device()), " but input on ", device_name(x.device()));
}

template <class T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}
template <class T>
T* mut_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}
Tensor contig_or_none(const Tensor& t) { return t.defined() ? contiguous(t) : t; }

}  // namespace

NormResult layer_norm_forward(const Tensor& x_in, const Tensor& gamma_in, const Tensor& beta_in, double eps) {
  const char* op = "layer_norm";
  check_input(op, x_in);
  check_param(op, "weight", gamma_in, x_in);
  check_param(op, "bias", beta_in, x_in);
  Tensor x = contiguous(x_in), gamma = contig_or_none(gamma_in), beta = contig_or_none(beta_in);
  const int64_t D = x.shape().back(), rows = numel_of(stats_shape(x.shape()));
  NormResult r;
  r.y = empty(x.shape(), x.dtype(), x.device());
  r.mean = empty(stats_shape(x.shape()), x.dtype(), x.device());
  r.rstd = empty(stats_shape(x.shape()), x.dtype(), x.device());
  detail::dispatch_float(op, x.dtype(), [&]<class T>() {
    auto args = [&](auto fn) {
      fn(rows, D, x.data<T>(), ptr_or_null<T>(gamma), ptr_or_null<T>(beta), static_cast<T>(eps), r.y.data<T>(),
         r.mean.data<T>(), r.rstd.data<T>());
    };
    if (x.device() == Device::CPU) args(cpu::layer_norm_forward<T>);
    else detail::cuda_call([&] { args(cuda::layer_norm_forward<T>); });
  });
  return r;
}

NormGrads layer_norm_backward(const Tensor& gy_in, const Tensor& x_in, const Tensor& mean_in, const Tensor& rstd_in,
                              const Tensor& gamma_in, bool with_beta) {
  const char* op = "layer_norm_backward";
  check_input(op, x_in);
  check_like(op, "gradient", gy_in, x_in.shape(), x_in);
  check_like(op, "mean", mean_in, stats_shape(x_in.shape()), x_in);
  check_like(op, "rstd", rstd_in, stats_shape(x_in.shape()), x_in);
  check_param(op, "weight", gamma_in, x_in);
  Tensor gy = contiguous(gy_in), x = contiguous(x_in), mean = contiguous(mean_in), rstd = contiguous(rstd_in);
  Tensor gamma = contig_or_none(gamma_in);
  const int64_t D = x.shape().back(), rows = numel_of(stats_shape(x.shape()));
  NormGrads r;
  r.gx = empty(x.shape(), x.dtype(), x.device());
  if (gamma.defined()) r.ggamma = empty({D}, x.dtype(), x.device());
  if (with_beta) r.gbeta = empty({D}, x.dtype(), x.device());
  detail::dispatch_float(op, x.dtype(), [&]<class T>() {
    auto args = [&](auto fn) {
      fn(rows, D, gy.data<T>(), x.data<T>(), mean.data<T>(), rstd.data<T>(), ptr_or_null<T>(gamma), r.gx.data<T>(),
         mut_or_null<T>(r.ggamma), mut_or_null<T>(r.gbeta));
    };
    if (x.device() == Device::CPU) args(cpu::layer_norm_backward<T>);
    else detail::cuda_call([&] { args(cuda::layer_norm_backward<T>); });
  });
  return r;
}

NormResult rms_norm_forward(const Tensor& x_in, const Tensor& gamma_in, double eps) {
  const char* op = "rms_norm";
  check_input(op, x_in);
  check_param(op, "weight", gamma_in, x_in);
  Tensor x = contiguous(x_in), gamma = contig_or_none(gamma_in);
  const int64_t D = x.shape().back(), rows = numel_of(stats_shape(x.shape()));
  NormResult r;
  r.y = empty(x.shape(), x.dtype(), x.device());
  r.rstd = empty(stats_shape(x.shape()), x.dtype(), x.device());
  detail::dispatch_float(op, x.dtype(), [&]<class T>() {
    auto args = [&](auto fn) {
      fn(rows, D, x.data<T>(), ptr_or_null<T>(gamma), static_cast<T>(eps), r.y.data<T>(), r.rstd.data<T>());
    };
    if (x.device() == Device::CPU) args(cpu::rms_norm_forward<T>);
    else detail::cuda_call([&] { args(cuda::rms_norm_forward<T>); });
  });
  return r;
}

NormGrads rms_norm_backward(const Tensor& gy_in, const Tensor& x_in, const Tensor& rstd_in, const Tensor& gamma_in) {
  const char* op = "rms_norm_backward";
  check_input(op, x_in);
  check_like(op, "gradient", gy_in, x_in.shape(), x_in);
  check_like(op, "rstd", rstd_in, stats_shape(x_in.shape()), x_in);
  check_param(op, "weight", gamma_in, x_in);
  Tensor gy = contiguous(gy_in), x = contiguous(x_in), rstd = contiguous(rstd_in), gamma = contig_or_none(gamma_in);
  const int64_t D = x.shape().back(), rows = numel_of(stats_shape(x.shape()));
  NormGrads r;
  r.gx = empty(x.shape(), x.dtype(), x.device());
  if (gamma.defined()) r.ggamma = empty({D}, x.dtype(), x.device());
  detail::dispatch_float(op, x.dtype(), [&]<class T>() {
    auto args = [&](auto fn) {
      fn(rows, D, gy.data<T>(), x.data<T>(), rstd.data<T>(), ptr_or_null<T>(gamma), r.gx.data<T>(),
         mut_or_null<T>(r.ggamma));
    };
    if (x.device() == Device::CPU) args(cpu::rms_norm_backward<T>);
    else detail::cuda_call([&] { args(cuda::rms_norm_backward<T>); });
  });
  return r;
}

}  // namespace gs::op
