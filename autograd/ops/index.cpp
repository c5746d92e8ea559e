// Index ops: forward, vjp and jvp side by side. Broadcasting is undone by op::sum_to in a vjp
// and redone by broadcast_tangent in a jvp.
#include "autograd/ops/index.h"

#include "autograd/function.h"
#include "autograd/ops/shape.h"
#include "autograd/variable.h"
#include "tensor/creation.h"
#include "tensor/elementwise.h"
#include "tensor/index.h"
#include "tensor/reduce.h"
#include "tensor/views.h"

namespace gs {

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  Tensor y = op::concat(xs, dim);  // validates, so dim wraps safely below
  const int64_t d = wrap_dim("concat", dim, y.dim());
  std::vector<int64_t> lens;
  for (const Tensor& t : xs) lens.push_back(t.shape()[d]);
  return record(
      "concat", y, xs,
      [lens, d](const Tensor& g) {
        Grads out;
        int64_t start = 0;
        for (int64_t len : lens) {
          out.push_back(op::narrow(g, d, start, len));
          start += len;
        }
        return out;
      },
      // the tangents joined the same way, zeros standing in for the inputs without one
      [&](const std::vector<Tensor>& t) {
        std::vector<Tensor> parts;
        parts.reserve(t.size());
        for (size_t i = 0; i < t.size(); ++i)
          parts.push_back(t[i].defined() ? t[i] : zeros(xs[i].shape(), y.dtype(), y.device()));
        return op::concat(parts, d);
      });
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  op::split(x, sizes, dim);  // validates sizes against x (views only, nothing copied)
  const int64_t d = wrap_dim("split", dim, x.dim());
  std::vector<Tensor> out;
  int64_t start = 0;
  for (int64_t s : sizes) {
    out.push_back(narrow(x, d, start, s));
    start += s;
  }
  return out;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  const bool ga = requires_grad_flag(a), gb = requires_grad_flag(b);
  Tensor y = op::where(cond, a, b);
  return record(
      "where", y, {a, b},
      [cond = saved(cond), sa = a.shape(), sb = b.shape(), ga, gb](const Tensor& g) {
        Tensor zero = scalar(0, g.dtype(), g.device());
        return grads(ga ? op::sum_to(op::where(cond, g, zero), sa) : Tensor(),
                     gb ? op::sum_to(op::where(cond, zero, g), sb) : Tensor());
      },
      // the selected input's tangent; broadcast in case the missing one was the widest operand
      [&](const std::vector<Tensor>& t) {
        Tensor zero = scalar(0, y.dtype(), y.device());
        return broadcast_tangent(op::where(cond, t[0].defined() ? t[0] : zero, t[1].defined() ? t[1] : zero),
                                 y.shape());
      });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  return record(
      "masked_fill", op::masked_fill(x, mask, value), {x},
      [mask = saved(mask)](const Tensor& g) { return grads(op::where(mask, scalar(0, g.dtype(), g.device()), g)); },
      // a filled place is a constant: zero tangent there
      [&](const std::vector<Tensor>& t) { return op::masked_fill(t[0], mask, 0.0); });
}

}  // namespace gs
