// Softmax family: forward, vjp and jvp side by side. All four rules need only the forward output.
#include "autograd/ops/softmax.h"

#include "autograd/function.h"
#include "tensor/elementwise.h"
#include "tensor/reduce.h"
#include "tensor/softmax.h"

namespace gs {

Tensor softmax(const Tensor& x) {
  Tensor y = op::softmax(x);
  return record(
      "softmax", y, {x}, [y = saved(y)](const Tensor& g) { return grads(op::softmax_backward(y, g)); },
      // J = diag(y) - y y^T per row is symmetric, so J v is the vjp applied to v
      [&](const std::vector<Tensor>& t) { return op::softmax_backward(y, t[0]); });
}

Tensor log_softmax(const Tensor& x) {
  Tensor y = op::log_softmax(x);
  return record(
      "log_softmax", y, {x}, [y = saved(y)](const Tensor& g) { return grads(op::log_softmax_backward(y, g)); },
      // J = I - 1 softmax^T per row (not symmetric): J v = v - <softmax, v> on every element
      [&](const std::vector<Tensor>& t) {
        if (y.dim() == 0) return op::mul(t[0], 0.0);  // a single element: log_softmax is constant 0
        return op::sub(t[0], op::sum(op::mul(op::exp(y), t[0]), {-1}, true));
      });
}

}  // namespace gs
