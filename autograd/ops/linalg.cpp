#include "autograd/ops/linalg.h"

#include "autograd/function.h"
#include "autograd/variable.h"
#include "tensor/linalg.h"
#include "tensor/reduce.h"

namespace gs {

Tensor matmul(const Tensor& a, const Tensor& b) {
  const bool ga = requires_grad_flag(a), gb = requires_grad_flag(b);
  return record("matmul", op::matmul(a, b), {a, b}, [a = saved(a), b = saved(b), ga, gb](const Tensor& g) {
    Tensor da, db;
    if (ga) da = op::sum_to(op::matmul(g, b, false, true), a.shape());
    if (gb) db = op::sum_to(op::matmul(a, g, true, false), b.shape());
    return grads(da, db);
  });
}

}  // namespace gs
