// Index ops: forward and vjp side by side. Broadcasting is undone by op::sum_to.
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
  return record("concat", y, xs, [lens, d](const Tensor& g) {
    Grads out;
    int64_t start = 0;
    for (int64_t len : lens) {
      out.push_back(op::narrow(g, d, start, len));
      start += len;
    }
    return out;
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
  return record("where", op::where(cond, a, b), {a, b},
                [cond = saved(cond), sa = a.shape(), sb = b.shape(), ga, gb](const Tensor& g) {
                  Tensor zero = scalar(0, g.dtype(), g.device());
                  return grads(ga ? op::sum_to(op::where(cond, g, zero), sa) : Tensor(),
                               gb ? op::sum_to(op::where(cond, zero, g), sb) : Tensor());
                });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  return record("masked_fill", op::masked_fill(x, mask, value), {x}, [mask = saved(mask)](const Tensor& g) {
    return grads(op::where(mask, scalar(0, g.dtype(), g.device()), g));
  });
}

}  // namespace gs
