#include "nn/optim.h"

#include <cmath>
#include <numbers>
#include <set>
#include <unordered_set>

#include "autograd/grad_mode.h"
#include "autograd/variable.h"
#include "tensor/ops.h"

namespace gs::nn {
namespace {

bool finite_nonneg(double x) { return std::isfinite(x) && x >= 0; }

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// Drops repeated tensors (same TensorImpl), keeping the first name.
NamedTensors dedupe(const std::string& kind, NamedTensors params) {
  NamedTensors out;
  std::unordered_set<const TensorImpl*> seen;
  std::set<std::string> names;
  for (auto& [n, t] : params) {
    if (!t.defined()) fail(kind, "parameter '", n, "' is an undefined tensor");
    if (!seen.insert(t.impl()).second) continue;
    if (!names.insert(n).second) fail(kind, "two different parameters are both named '", n, "'");
    out.emplace_back(std::move(n), std::move(t));
  }
  return out;
}

Tensor step_counter() { return zeros({}, kInt64); }

}  // namespace

// ---- Optimizer ------------------------------------------------------------------------------

Optimizer::Optimizer(std::string kind, NamedTensors params, double lr_) : lr(lr_), kind_(std::move(kind)) {
  params_ = dedupe(kind_, std::move(params));
  if (params_.empty()) fail(kind_, "got an empty parameter list");
  if (!finite_nonneg(lr)) fail(kind_, "lr must be finite and >= 0, got ", lr);
  for (const auto& [n, p] : params_) {
    if (!is_floating(p.dtype())) fail(kind_, "parameter '", n, "' has dtype ", dtype_name(p.dtype()), ", not a float");
    if (!is_leaf(p) || !requires_grad_flag(p))
      fail(kind_, "parameter '", n, "' must be a leaf that requires grad");
    if (!p.is_contiguous()) fail(kind_, "parameter '", n, "' ", shape_str(p.shape()), " is not contiguous");
  }
}

void Optimizer::zero_grad() {
  for (const auto& [_, p] : params_) gs::zero_grad(p);
}

std::vector<Tensor> Optimizer::begin_step() const {
  const std::string where = kind_ + ".step";
  if (!finite_nonneg(lr)) fail(where, "lr must be finite and >= 0, got ", lr);
  std::vector<Tensor> grads;
  grads.reserve(params_.size());
  for (const auto& [n, p] : params_) {
    Tensor g = grad_of(p);
    if (g.defined()) {
      if (g.shape() != p.shape())
        fail(where, "grad of '", n, "' has shape ", shape_str(g.shape()), " but the parameter has ",
             shape_str(p.shape()));
      if (g.dtype() != p.dtype())
        fail(where, "grad of '", n, "' has dtype ", dtype_name(g.dtype()), " but the parameter has ",
             dtype_name(p.dtype()));
      if (g.device() != p.device())
        fail(where, "grad of '", n, "' is on ", device_name(g.device()), " but the parameter is on ",
             device_name(p.device()));
    }
    grads.push_back(g);
  }
  return grads;
}

NamedTensors Optimizer::state() const {
  NamedTensors out;
  out.emplace_back("step", scalar(static_cast<double>(steps_), kInt64));
  for (const auto& [n, t] : slots()) out.emplace_back(n, op::clone(t));
  return out;
}

void Optimizer::load_state(const std::map<std::string, Tensor>& state) {
  const double sv = check_state(state);
  NoGradGuard no_grad;
  for (const auto& [n, dst] : slots()) op::copy_(dst, op::to(state.at(n), dst.device()));
  steps_ = static_cast<int64_t>(sv);
}

double Optimizer::check_state(const std::map<std::string, Tensor>& state) const {
  const std::string where = kind_ + ".load_state";
  NamedTensors mine = slots();
  std::set<std::string> expected{"step"};
  for (const auto& [n, _] : mine) expected.insert(n);
  std::vector<std::string> missing, extra;
  for (const auto& n : expected)
    if (!state.count(n)) missing.push_back(n);
  for (const auto& [n, _] : state)
    if (!expected.count(n)) extra.push_back(n);
  if (!missing.empty() || !extra.empty())
    fail(where, missing.empty() ? "" : "missing: " + join(missing), !missing.empty() && !extra.empty() ? "; " : "",
         extra.empty() ? "" : "unexpected: " + join(extra));
  // check everything before writing anything: a failed load leaves the optimiser unchanged
  const Tensor& st = state.at("step");
  if (!st.defined() || st.numel() != 1) fail(where, "'step' must be a single number");
  // Steps are counted in int64 and pass through double (a float tensor may hold them): beyond 2^53
  // neither is exact, and near 2^63 the conversion and the next ++ overflow. No run takes 2^53 steps.
  constexpr double kMaxStep = 9007199254740992.0;  // 2^53
  auto check_step = [&](const std::string& n, double v) {
    if (!(v >= 0) || v != std::floor(v) || v > kMaxStep)
      fail(where, "'", n, "' must be a whole number in [0, 2^53], got ", v);
  };
  const double sv = st.item<double>();
  check_step("step", sv);
  for (const auto& [n, dst] : mine) {
    const Tensor& src = state.at(n);
    if (!src.defined()) fail(where, "'", n, "' is an undefined tensor");
    if (n.size() >= 5 && n.compare(n.size() - 5, 5, ".step") == 0 && src.numel() == 1) check_step(n, src.item<double>());
    if (src.shape() != dst.shape())
      fail(where, "'", n, "' has shape ", shape_str(src.shape()), ", the optimiser expects ", shape_str(dst.shape()));
    if (is_floating(src.dtype()) != is_floating(dst.dtype()))
      fail(where, "'", n, "' has dtype ", dtype_name(src.dtype()), ", the optimiser expects ", dtype_name(dst.dtype()));
    // A corrupt moment would otherwise surface steps later as "loss is nan ... lower the learning
    // rate": name it here. A second moment is an average of squares, never negative.
    if (is_floating(src.dtype()) && src.numel() > 0) {
      const std::vector<double> v = src.to_vector<double>();
      const bool second_moment = n.size() >= 11 && n.compare(n.size() - 11, 11, ".exp_avg_sq") == 0;
      for (size_t i = 0; i < v.size(); ++i) {
        if (!std::isfinite(v[i])) fail(where, "'", n, "' has a non-finite value (", v[i], " at flat index ", i, "): corrupt state?");
        if (second_moment && v[i] < 0)
          fail(where, "'", n, "' has a negative value (", v[i], " at flat index ", i,
               "); a second moment is an average of squares: corrupt state?");
      }
    }
  }
  return sv;
}

// ---- SGD ------------------------------------------------------------------------------------

SGD::SGD(NamedTensors params, double lr_, double momentum_, bool nesterov_, double weight_decay_)
    : Optimizer("SGD", std::move(params), lr_), momentum(momentum_), weight_decay(weight_decay_), nesterov(nesterov_) {
  if (!finite_nonneg(momentum)) fail("SGD", "momentum must be finite and >= 0, got ", momentum);
  if (!finite_nonneg(weight_decay)) fail("SGD", "weight_decay must be finite and >= 0, got ", weight_decay);
  if (nesterov && momentum == 0) fail("SGD", "nesterov needs momentum > 0");
  // zero buffers: mu * 0 + g == g exactly, PyTorch's first-step clone of g
  if (momentum != 0)
    for (const auto& [_, p] : params_) buf_.push_back(zeros(p.shape(), p.dtype(), p.device()));
}

NamedTensors SGD::slots() const {
  NamedTensors out;
  for (size_t i = 0; i < buf_.size(); ++i) out.emplace_back(params_[i].first + ".momentum_buffer", buf_[i]);
  return out;
}

void SGD::step() {
  if (!finite_nonneg(momentum) || !finite_nonneg(weight_decay) || (nesterov && momentum == 0))
    fail("SGD.step", "invalid hyperparameters: momentum ", momentum, ", weight_decay ", weight_decay, ", nesterov ",
         nesterov);
  if (momentum != 0 && buf_.empty())
    fail("SGD.step", "momentum was 0 at construction (no buffers); make a new SGD to use momentum");
  std::vector<Tensor> grads = begin_step();
  NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i].second;
    Tensor d = grads[i];
    if (!d.defined()) continue;
    if (weight_decay != 0) d = op::add(d, op::mul(p, weight_decay));
    if (momentum != 0) {
      const Tensor& b = buf_[i];
      op::copy_(b, op::mul(b, momentum));
      op::axpy_(b, 1.0, d);
      d = nesterov ? op::add(d, op::mul(b, momentum)) : b;
    }
    op::axpy_(p, -lr, d);
  }
  ++steps_;
}

// ---- Adam / AdamW ---------------------------------------------------------------------------

Adam::Adam(NamedTensors params, double lr_, double beta1_, double beta2_, double eps_, double weight_decay_)
    : Adam("Adam", false, std::move(params), lr_, beta1_, beta2_, eps_, weight_decay_) {}

Adam::Adam(std::string kind, bool decoupled, NamedTensors params, double lr_, double beta1_, double beta2_,
           double eps_, double weight_decay_)
    : Optimizer(std::move(kind), std::move(params), lr_),
      beta1(beta1_),
      beta2(beta2_),
      eps(eps_),
      weight_decay(weight_decay_),
      decoupled_(decoupled) {
  if (!(beta1 >= 0 && beta1 < 1)) fail(kind_, "beta1 must be in [0, 1), got ", beta1);
  if (!(beta2 >= 0 && beta2 < 1)) fail(kind_, "beta2 must be in [0, 1), got ", beta2);
  if (!finite_nonneg(eps)) fail(kind_, "eps must be finite and >= 0, got ", eps);
  if (!finite_nonneg(weight_decay)) fail(kind_, "weight_decay must be finite and >= 0, got ", weight_decay);
  for (const auto& [_, p] : params_) {
    exp_avg_.push_back(zeros(p.shape(), p.dtype(), p.device()));
    exp_avg_sq_.push_back(zeros(p.shape(), p.dtype(), p.device()));
    step_.push_back(step_counter());
  }
}

AdamW::AdamW(NamedTensors params, double lr_, double beta1_, double beta2_, double eps_, double weight_decay_)
    : Adam("AdamW", true, std::move(params), lr_, beta1_, beta2_, eps_, weight_decay_) {}

NamedTensors Adam::slots() const {
  NamedTensors out;
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string& n = params_[i].first;
    out.emplace_back(n + ".exp_avg", exp_avg_[i]);
    out.emplace_back(n + ".exp_avg_sq", exp_avg_sq_[i]);
    out.emplace_back(n + ".step", step_[i]);
  }
  return out;
}

void Adam::step() {
  const std::string where = kind_ + ".step";
  if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !finite_nonneg(eps) || !finite_nonneg(weight_decay))
    fail(where, "invalid hyperparameters: beta1 ", beta1, ", beta2 ", beta2, ", eps ", eps, ", weight_decay ",
         weight_decay);
  std::vector<Tensor> grads = begin_step();
  NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i].second;
    Tensor g = grads[i];
    if (!g.defined()) continue;
    int64_t& t = step_[i].data<int64_t>()[0];
    op::adam_update_(p, g, exp_avg_[i], exp_avg_sq_[i], {lr, beta1, beta2, eps, weight_decay, decoupled_, t + 1});
    ++t;
  }
  ++steps_;
}

// ---- clipping -------------------------------------------------------------------------------

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  if (!(max_norm >= 0)) fail("clip_grad_norm", "max_norm must be >= 0, got ", max_norm);
  std::vector<Tensor> grads_of;  // the parameters that have a gradient, each once
  std::unordered_set<const TensorImpl*> seen;
  NoGradGuard no_grad;
  double sumsq = 0;
  for (const Tensor& p : params) {
    if (!p.defined()) fail("clip_grad_norm", "an undefined tensor in the parameter list");
    if (!seen.insert(p.impl()).second) continue;
    Tensor g = grad_of(p);
    if (!g.defined()) continue;
    Tensor gd = op::to(g, kFloat64);
    sumsq += op::sum(op::mul(gd, gd)).item<double>();
    grads_of.push_back(p);
  }
  const double norm = std::sqrt(sumsq);
  if (std::isfinite(norm) && norm > max_norm) {
    const double coef = max_norm / (norm + 1e-6);
    for (const Tensor& p : grads_of) {
      AutogradMeta& m = gs::detail::meta(p);
      m.grad = op::mul(m.grad, coef);
    }
  }
  return norm;
}

double clip_grad_norm(const NamedTensors& params, double max_norm) {
  std::vector<Tensor> ts;
  ts.reserve(params.size());
  for (const auto& [_, t] : params) ts.push_back(t);
  return clip_grad_norm(ts, max_norm);
}

// ---- schedules ------------------------------------------------------------------------------

LrSchedule::LrSchedule(Kind kind_, double base_lr_, int64_t warmup_, int64_t total_, double min_lr_)
    : kind(kind_), base_lr(base_lr_), warmup(warmup_), total(total_), min_lr(min_lr_) {
  if (!finite_nonneg(base_lr)) fail("LrSchedule", "base_lr must be finite and >= 0, got ", base_lr);
  if (warmup < 0) fail("LrSchedule", "warmup must be >= 0, got ", warmup);
  if (kind == Kind::Cosine) {
    if (total < 1 || total < warmup)
      fail("LrSchedule", "cosine needs total >= max(1, warmup), got total = ", total, ", warmup = ", warmup);
    if (!(min_lr >= 0 && min_lr <= base_lr))
      fail("LrSchedule", "min_lr must be in [0, base_lr = ", base_lr, "], got ", min_lr);
  }
}

double LrSchedule::at(int64_t step) const {
  if (step < 0) fail("LrSchedule.at", "step must be >= 0, got ", step);
  if (step < warmup) return base_lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  if (kind == Kind::Constant) return base_lr;
  if (step >= total) return min_lr;
  const double r = static_cast<double>(step - warmup) / static_cast<double>(total - warmup);
  return min_lr + 0.5 * (1.0 + std::cos(std::numbers::pi * r)) * (base_lr - min_lr);
}

LrSchedule make_schedule(const std::string& name, double base_lr, int64_t warmup, int64_t total, double min_lr) {
  if (name == "constant") return LrSchedule(LrSchedule::Kind::Constant, base_lr, warmup, total, min_lr);
  if (name == "cosine") return LrSchedule(LrSchedule::Kind::Cosine, base_lr, warmup, total, min_lr);
  fail("make_schedule", "unknown schedule '", name, "' (constant, cosine)");
}

}  // namespace gs::nn
