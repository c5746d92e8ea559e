// Softmax family: forward and vjp side by side. Both vjps need only the forward output.
#include "autograd/ops/softmax.h"

#include "autograd/function.h"
#include "tensor/softmax.h"

namespace gs {

Tensor softmax(const Tensor& x) {
  Tensor y = op::softmax(x);
  return record("softmax", y, {x}, [y = saved(y)](const Tensor& g) { return grads(op::softmax_backward(y, g)); });
}

Tensor log_softmax(const Tensor& x) {
  Tensor y = op::log_softmax(x);
  return record("log_softmax", y, {x},
                [y = saved(y)](const Tensor& g) { return grads(op::log_softmax_backward(y, g)); });
}

}  // namespace gs
