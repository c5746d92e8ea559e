#pragma once
// Fused optimiser updates: one pass over a parameter instead of a chain of full-size
// temporaries (the composite Adam step made about ten of them per parameter).
#include <cstdint>

namespace gs::cpu {

// Coefficients of one Adam/AdamW step, already rounded to T by the caller.
template <class T>
struct AdamCoeffs {
  T beta1, one_minus_beta1;  // m = m * beta1 + (1 - beta1) * g
  T beta2, one_minus_beta2;  // v = v * beta2 + (1 - beta2) * g^2
  T sqrt_bc2;                // sqrt(1 - beta2^t)
  T eps;
  T neg_step;    // -lr / (1 - beta1^t)
  T decay;       // AdamW: p *= decay (1 - lr * wd) first; Adam: g += weight_decay * p
  T weight_decay;
  bool decoupled;
  bool has_decay;  // weight_decay != 0
};

// In place over [n] contiguous arrays, per element in this order (the same rounding steps as
// the composite formulation in nn/optim.cpp, which PyTorch's single-tensor Adam also follows):
//   AdamW: p = p * decay          Adam: g' = g + p * weight_decay   (only when has_decay)
//   m = m * beta1 + (1 - beta1) * g'
//   v = v * beta2 + (1 - beta2) * (g' * g')
//   p = p + neg_step * (m / (sqrt(v) / sqrt_bc2 + eps))
// T: float, double.
template <class T>
void adam_update(int64_t n, T* p, const T* g, T* m, T* v, const AdamCoeffs<T>& c);

}  // namespace gs::cpu
