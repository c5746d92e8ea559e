#pragma once
// Layer norm and RMS norm over the last dimension. No graph: see autograd/ops/norm.h for the
// differentiable versions. x: [..., D]; gamma, beta: [D] (an undefined Tensor means none);
// mean, rstd: x's shape without its last dim (float32 stats are computed in double).
#include "tensor/tensor.h"

namespace gs::op {

struct NormResult {
  Tensor y, mean, rstd;  // mean is undefined for rms_norm
};
struct NormGrads {
  Tensor gx, ggamma, gbeta;  // ggamma undefined when gamma is; gbeta when not asked for
};

// y = (x - mean) * rstd * gamma + beta, rstd = 1 / sqrt(var + eps) (biased variance).
NormResult layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps);
// with_beta: also return gbeta = sum of gy over all but the last dim.
NormGrads layer_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                              const Tensor& gamma, bool with_beta);

// y = x * rstd * gamma, rstd = 1 / sqrt(mean(x^2) + eps).
NormResult rms_norm_forward(const Tensor& x, const Tensor& gamma, double eps);
NormGrads rms_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& rstd, const Tensor& gamma);

}  // namespace gs::op
