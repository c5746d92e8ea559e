#pragma once
// Differentiable layer norm and RMS norm over the last dim. gamma/beta: [D]; an undefined
// Tensor means none (no scale / no shift).
#include "tensor/tensor.h"

namespace gs {

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps = 1e-5);
Tensor rms_norm(const Tensor& x, const Tensor& gamma, double eps = 1e-6);

}  // namespace gs
