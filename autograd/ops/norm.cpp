// Norms: forward, vjp and jvp side by side. Forward and vjp go through the fused kernels of
// tensor/norm.h; the jvps are composed of tensor ops from the saved statistics (forward mode is
// for analysis, not for training speed).
#include "autograd/ops/norm.h"

#include "autograd/function.h"
#include "tensor/elementwise.h"
#include "tensor/norm.h"
#include "tensor/reduce.h"
#include "tensor/views.h"

namespace gs {
namespace {

// Differential of xhat = x rstd with the statistics of x over the last dim, given
// d(x - mean) = dc and xhat: rstd (dc - xhat mean(xhat dc)). The second term is d rstd, which
// only sees the component of dc along xhat; it is the same for layer and RMS norm.
Tensor dnormalised(const Tensor& dc, const Tensor& xhat, const Tensor& rstd) {
  return op::mul(op::sub(dc, op::mul(xhat, op::mean(op::mul(xhat, dc), {-1}, true))), rstd);
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  op::NormResult r = op::layer_norm_forward(x, gamma, beta, eps);
  const bool has_beta = beta.defined();
  return record(
      "layer_norm", r.y, {x, gamma, beta},
      [x = saved(x), gamma = saved(gamma), mean = saved(r.mean), rstd = saved(r.rstd), has_beta](const Tensor& g) {
        op::NormGrads d = op::layer_norm_backward(g, x, mean, rstd, gamma, has_beta);
        return grads(d.gx, d.ggamma, d.gbeta);
      },
      // y = xhat gamma + beta, xhat = (x - mean) rstd; dy = dxhat gamma + xhat dgamma + dbeta
      [&](const std::vector<Tensor>& t) {
        const Tensor rstd = op::unsqueeze(r.rstd, -1);  // [..., 1]
        const Tensor xhat = op::mul(op::sub(x, op::unsqueeze(r.mean, -1)), rstd);
        Tensor dy;
        if (t[0].defined()) {
          Tensor dxhat = dnormalised(op::sub(t[0], op::mean(t[0], {-1}, true)), xhat, rstd);
          dy = gamma.defined() ? op::mul(dxhat, gamma) : dxhat;
        }
        if (t[1].defined()) dy = add_tangents(dy, op::mul(xhat, t[1]));
        return broadcast_tangent(add_tangents(dy, t[2]), r.y.shape());  // dbeta alone is [D]
      });
}

Tensor rms_norm(const Tensor& x, const Tensor& gamma, double eps) {
  op::NormResult r = op::rms_norm_forward(x, gamma, eps);
  return record(
      "rms_norm", r.y, {x, gamma},
      [x = saved(x), gamma = saved(gamma), rstd = saved(r.rstd)](const Tensor& g) {
        op::NormGrads d = op::rms_norm_backward(g, x, rstd, gamma);
        return grads(d.gx, d.ggamma);
      },
      // y = xhat gamma, xhat = x rstd (no centring); dy = dxhat gamma + xhat dgamma
      [&](const std::vector<Tensor>& t) {
        const Tensor rstd = op::unsqueeze(r.rstd, -1);  // [..., 1]
        const Tensor xhat = op::mul(x, rstd);
        Tensor dy;
        if (t[0].defined()) {
          Tensor dxhat = dnormalised(t[0], xhat, rstd);
          dy = gamma.defined() ? op::mul(dxhat, gamma) : dxhat;
        }
        if (t[1].defined()) dy = add_tangents(dy, op::mul(xhat, t[1]));
        return dy;
      });
}

}  // namespace gs
