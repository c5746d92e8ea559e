#pragma once
// In-place optimiser updates on plain tensors (no graph). nn/optim.cpp builds its optimisers on
// these; they are public so research code can write its own optimiser loops.
#include "tensor/tensor.h"

namespace gs::op {

struct AdamStep {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool decoupled = false;  // true: AdamW (p *= 1 - lr * wd), false: Adam (g += wd * p)
  int64_t step = 1;        // t >= 1, for the bias corrections 1 - beta^t
};

// One Adam/AdamW step on parameter p with gradient g and moments m (exp_avg), v (exp_avg_sq),
// all four the same shape, dtype (float32/float64) and device; p, m, v contiguous (updated in
// place). On the CPU a single fused pass (cpu::adam_update); on CUDA the same formula as a
// sequence of elementwise ops. Errors name "adam_update_" and the offending tensor.
void adam_update_(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, const AdamStep& s);

}  // namespace gs::op
