// Losses: forward and vjp side by side.
#include "autograd/ops/loss.h"

#include <string>

#include "autograd/function.h"
#include "tensor/elementwise.h"
#include "tensor/loss.h"

namespace gs {

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index, std::string_view reduction) {
  if (reduction != "mean" && reduction != "sum")
    fail("cross_entropy", "reduction must be \"mean\" or \"sum\", got \"", std::string(reduction), "\"");
  op::CrossEntropyResult r = op::cross_entropy_forward(logits, targets, ignore_index);
  const double denom = reduction == "mean" ? static_cast<double>(r.n_valid) : 1.0;
  Tensor loss = reduction == "mean" ? op::div(r.loss, denom) : r.loss;
  return record("cross_entropy", loss, {logits},
                [logits = saved(logits), targets, lse = r.lse, ignore_index, denom](const Tensor& g) {
                  const double scale = g.item<double>() / denom;
                  return grads(op::cross_entropy_backward(logits, targets, lse, scale, ignore_index));
                });
}

}  // namespace gs
