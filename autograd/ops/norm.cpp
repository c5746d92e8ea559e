// Norms: forward and vjp side by side, both through the fused kernels of tensor/norm.h.
#include "autograd/ops/norm.h"

#include "autograd/function.h"
#include "tensor/norm.h"

namespace gs {

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  op::NormResult r = op::layer_norm_forward(x, gamma, beta, eps);
  const bool has_beta = beta.defined();
  return record("layer_norm", r.y, {x, gamma, beta},
                [x = saved(x), gamma = saved(gamma), mean = saved(r.mean), rstd = saved(r.rstd), has_beta](const Tensor& g) {
                  op::NormGrads d = op::layer_norm_backward(g, x, mean, rstd, gamma, has_beta);
                  return grads(d.gx, d.ggamma, d.gbeta);
                });
}

Tensor rms_norm(const Tensor& x, const Tensor& gamma, double eps) {
  op::NormResult r = op::rms_norm_forward(x, gamma, eps);
  return record("rms_norm", r.y, {x, gamma}, [x = saved(x), gamma = saved(gamma), rstd = saved(r.rstd)](const Tensor& g) {
    op::NormGrads d = op::rms_norm_backward(g, x, rstd, gamma);
    return grads(d.gx, d.ggamma);
  });
}

}  // namespace gs
