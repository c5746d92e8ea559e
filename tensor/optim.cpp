#include "tensor/optim.h"

#include <cmath>

#include "ops_cpu/optim.h"
#include "tensor/convert.h"
#include "tensor/dispatch.h"
#include "tensor/elementwise.h"

namespace gs::op {
namespace {

constexpr const char* kOp = "adam_update_";

void check_like(const char* what, const Tensor& t, const Tensor& p, bool must_be_contiguous) {
  if (!t.defined()) fail(kOp, what, " is an undefined tensor");
  if (t.shape() != p.shape()) fail(kOp, what, " has shape ", shape_str(t.shape()), ", the parameter ", shape_str(p.shape()));
  if (t.dtype() != p.dtype()) fail(kOp, what, " has dtype ", dtype_name(t.dtype()), ", the parameter ", dtype_name(p.dtype()));
  if (t.device() != p.device())
    fail(kOp, what, " is on ", device_name(t.device()), ", the parameter on ", device_name(p.device()));
  if (must_be_contiguous && !t.is_contiguous()) fail(kOp, what, " ", shape_str(t.shape()), " is not contiguous");
}

// Any device: the update as plain elementwise ops, in the kernel's order (ops_cpu/optim.h).
void adam_composite(const Tensor& p, const Tensor& g_in, const Tensor& m, const Tensor& v, const AdamStep& s,
                    double bc1, double bc2) {
  Tensor g = g_in;
  if (s.weight_decay != 0) {
    if (s.decoupled) copy_(p, mul(p, 1.0 - s.lr * s.weight_decay));
    else g = add(g, mul(p, s.weight_decay));
  }
  copy_(m, mul(m, s.beta1));
  axpy_(m, 1.0 - s.beta1, g);
  copy_(v, mul(v, s.beta2));
  axpy_(v, 1.0 - s.beta2, mul(g, g));
  Tensor denom = add(div(sqrt(v), std::sqrt(bc2)), s.eps);
  axpy_(p, -s.lr / bc1, div(m, denom));
}

}  // namespace

void adam_update_(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, const AdamStep& s) {
  if (!p.defined()) fail(kOp, "the parameter is an undefined tensor");
  if (!is_floating(p.dtype())) fail(kOp, "the parameter has dtype ", dtype_name(p.dtype()), ", not a float");
  if (!p.is_contiguous()) fail(kOp, "the parameter ", shape_str(p.shape()), " is not contiguous");
  check_like("the gradient", g, p, false);
  check_like("exp_avg", m, p, true);
  check_like("exp_avg_sq", v, p, true);
  if (s.step < 1) fail(kOp, "step must be >= 1, got ", s.step);
  const double bc1 = 1.0 - std::pow(s.beta1, static_cast<double>(s.step));
  const double bc2 = 1.0 - std::pow(s.beta2, static_cast<double>(s.step));
  if (p.device() != Device::CPU) return adam_composite(p, g, m, v, s, bc1, bc2);
  const Tensor gc = contiguous(g);
  detail::dispatch_float(kOp, p.dtype(), [&]<class T>() {
    const cpu::AdamCoeffs<T> c{static_cast<T>(s.beta1),
                               static_cast<T>(1.0 - s.beta1),
                               static_cast<T>(s.beta2),
                               static_cast<T>(1.0 - s.beta2),
                               static_cast<T>(std::sqrt(bc2)),
                               static_cast<T>(s.eps),
                               static_cast<T>(-s.lr / bc1),
                               static_cast<T>(1.0 - s.lr * s.weight_decay),
                               static_cast<T>(s.weight_decay),
                               s.decoupled,
                               s.weight_decay != 0};
    cpu::adam_update<T>(p.numel(), p.data<T>(), gc.data<T>(), m.data<T>(), v.data<T>(), c);
  });
}

}  // namespace gs::op
