// run_equal_norm: the direct logit step -eps G/||G|| against the logit change one SGD step
// through the network makes, rescaled to the same norm (construction in analysis/experiments.h).
#include <cmath>
#include <limits>

#include "analysis/experiments.h"
#include "autograd/ops.h"
#include "tensor/ops.h"

namespace gs::analysis {
namespace {

double frobenius(const Tensor& x) { return std::sqrt(op::sum(op::mul(x, x)).item<double>()); }
double inner(const Tensor& a, const Tensor& b) { return op::sum(op::mul(a, b)).item<double>(); }

}  // namespace

EqualNormResult run_equal_norm(nn::LanguageModel& model, const nn::Batch& batch, const EqualNormConfig& cfg) {
  const char* op_name = "equal-norm";
  if (cfg.eps.empty()) fail(op_name, "the eps list is empty");
  for (double e : cfg.eps)
    if (!(e > 0) || !std::isfinite(e)) fail(op_name, "every eps must be finite and > 0, got ", e);
  if (!(cfg.sgd_lr > 0) || !std::isfinite(cfg.sgd_lr))
    fail(op_name, "sgd_lr must be finite and > 0, got ", cfg.sgd_lr);
  if (!batch.inputs.defined() || !batch.targets.defined()) fail(op_name, "empty batch");

  const bool was_training = model.is_training();
  model.eval();  // no dropout: f(theta) must be a deterministic function of theta
  const Tensor y = reshape(batch.targets, {batch.targets.numel()});
  Tensor Z;
  {
    NoGradGuard no_grad;
    Z = model.forward(batch.inputs);
  }
  const auto ce = op::cross_entropy_forward(Z, y);
  if (ce.n_valid < 1) fail(op_name, "the batch has no valid target");
  const double n = static_cast<double>(ce.n_valid);
  const double L0 = ce.loss.item<double>() / n;
  const Tensor G = op::cross_entropy_backward(Z, y, ce.lse, 1.0 / n);
  auto loss_at = [&](const Tensor& direction, double eps) {
    NoGradGuard no_grad;
    return op::cross_entropy_forward(op::add(Z, op::mul(direction, eps)), y).loss.item<double>() / n;
  };

  // dL/dtheta for every parameter, once
  const nn::NamedTensors params = model.named_parameters();
  for (const auto& [_, p] : params) zero_grad(p);
  backward(model.loss(batch.inputs, batch.targets));
  std::vector<Tensor> grads, saved;
  for (const auto& [_, p] : params) {
    grads.push_back(grad_of(p));
    saved.push_back(op::clone(p));
    zero_grad(p);
  }
  // Z(theta - lr * grad on the selected parameters) - Z, parameters restored exactly afterwards
  auto logit_change = [&](bool backbone_only) {
    NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) {
      if (!grads[i].defined()) continue;
      if (backbone_only && params[i].first.rfind("backbone.", 0) != 0) continue;
      op::axpy_(params[i].second, -cfg.sgd_lr, op::contiguous(grads[i]));
    }
    Tensor dZ;
    try {
      dZ = op::sub(model.forward(batch.inputs), Z);
    } catch (...) {
      for (size_t i = 0; i < params.size(); ++i) op::copy_(params[i].second, saved[i]);
      throw;
    }
    for (size_t i = 0; i < params.size(); ++i) op::copy_(params[i].second, saved[i]);
    return dZ;
  };
  const Tensor dZ = logit_change(false);
  const Tensor dZb = logit_change(true);
  model.train(was_training);

  EqualNormResult r;
  r.tokens = ce.n_valid;
  r.vocab = Z.size(1);
  r.dim = model.head()->d_model();
  r.loss = L0;
  r.grad_norm = frobenius(G);
  r.dz_norm = frobenius(dZ);
  r.dz_backbone_norm = frobenius(dZb);
  r.sgd_lr = cfg.sgd_lr;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (!(r.grad_norm > 0)) fail(op_name, "the logit gradient is zero (the loss is already at its minimum)");
  r.cosine = r.dz_norm > 0 ? -inner(dZ, G) / (r.dz_norm * r.grad_norm) : nan;
  r.cosine_backbone = r.dz_backbone_norm > 0 ? -inner(dZb, G) / (r.dz_backbone_norm * r.grad_norm) : nan;
  const Tensor dir_direct = op::mul(G, -1.0 / r.grad_norm);
  const Tensor dir_net = r.dz_norm > 0 ? op::mul(dZ, 1.0 / r.dz_norm) : op::mul(dZ, 0.0);
  const Tensor dir_bb = r.dz_backbone_norm > 0 ? op::mul(dZb, 1.0 / r.dz_backbone_norm) : op::mul(dZb, 0.0);
  for (double eps : cfg.eps) {
    EqualNormPoint p;
    p.eps = eps;
    p.decrease_direct = L0 - loss_at(dir_direct, eps);
    p.decrease_network = L0 - loss_at(dir_net, eps);
    p.decrease_backbone = L0 - loss_at(dir_bb, eps);
    p.ratio = p.decrease_network > 0 ? p.decrease_direct / p.decrease_network : nan;
    p.ratio_backbone = p.decrease_backbone > 0 ? p.decrease_direct / p.decrease_backbone : nan;
    r.points.push_back(p);
  }
  return r;
}

}  // namespace gs::analysis
