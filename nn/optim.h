#pragma once
// Optimisers (SGD, Adam, AdamW), global-norm gradient clipping and learning-rate schedules.
//
//   nn::AdamW opt(model.named_parameters(), 3e-4);
//   auto sched = nn::make_schedule("cosine", 3e-4, /*warmup*/ 100, /*total*/ 5000, /*min_lr*/ 3e-5);
//   for (...) {
//     opt.zero_grad();
//     backward(loss);
//     nn::clip_grad_norm(model.named_parameters(), 1.0);
//     opt.lr = sched.at(opt.steps());
//     opt.step();
//   }
//
// Update rules are PyTorch's documented algorithms (torch.optim.SGD / Adam / AdamW, no dampening,
// no amsgrad). Updates run in place under NoGradGuard with gs::op:: ops, so they build no graph
// and work on any device the ops support. A parameter whose grad is undefined is skipped for that
// step (its state, including Adam's per-parameter step count, does not advance), as in PyTorch.
//
// State is named tensors, so a checkpoint stores it next to the model:
//   "step"                          int64 scalar: number of step() calls
//   "<param>.momentum_buffer"       SGD with momentum != 0
//   "<param>.exp_avg", "<param>.exp_avg_sq", "<param>.step" (int64 scalar)   Adam, AdamW
// Hyperparameters (lr, betas, ...) are not state: the caller (and its schedule) owns them.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nn/module.h"

namespace gs::nn {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient. Validates lr and every gradient (shape,
  // dtype, device against its parameter) before writing anything.
  virtual void step() = 0;
  // Resets every parameter's .grad to undefined.
  void zero_grad();
  // A snapshot (copies, not live buffers) of the state, in a stable order: "step" first, then
  // each parameter's tensors in parameter order.
  virtual NamedTensors state() const;
  // Restores a state() snapshot. The names must match exactly (missing and unexpected names are
  // listed) and shapes must agree; everything is checked before anything is written.
  virtual void load_state(const std::map<std::string, Tensor>& state);
  // load_state's checks alone (names, shapes, dtypes, steps in [0, 2^53], finite moments, no
  // negative second moment), writing nothing: lets a caller check every part of a checkpoint
  // before it writes any. Returns the global step.
  double check_state(const std::map<std::string, Tensor>& state) const;
  int64_t steps() const { return steps_; }
  // The parameters being optimised (duplicates of the same tensor, e.g. tied weights listed
  // twice, are kept once under their first name).
  const NamedTensors& params() const { return params_; }
  const std::string& kind() const { return kind_; }

  double lr;

 protected:
  // kind names the class in errors ("SGD", "Adam", "AdamW").
  Optimizer(std::string kind, NamedTensors params, double lr);
  // The live per-parameter state tensors, for state() / load_state(). Default: none.
  virtual NamedTensors slots() const { return {}; }
  // Checks lr and all gradients; returns each parameter's gradient (undefined: skip it).
  std::vector<Tensor> begin_step() const;

  NamedTensors params_;
  std::string kind_;
  int64_t steps_ = 0;
};

// PyTorch's SGD: g += wd * p; b = mu * b + g; g = nesterov ? g + mu * b : b; p -= lr * g.
class SGD : public Optimizer {
 public:
  SGD(NamedTensors params, double lr, double momentum = 0, bool nesterov = false, double weight_decay = 0);
  void step() override;
  double momentum, weight_decay;
  bool nesterov;

 protected:
  NamedTensors slots() const override;

 private:
  std::vector<Tensor> buf_;  // momentum buffers (empty when momentum == 0)
};

// PyTorch's Adam (weight_decay adds wd * p to the gradient, L2) and, with decoupled = true,
// AdamW (p *= 1 - lr * wd before the Adam update). With t the parameter's step count:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
class Adam : public Optimizer {
 public:
  Adam(NamedTensors params, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
       double weight_decay = 0);
  void step() override;
  double beta1, beta2, eps, weight_decay;

 protected:
  Adam(std::string kind, bool decoupled, NamedTensors params, double lr, double beta1, double beta2, double eps,
       double weight_decay);
  NamedTensors slots() const override;

 private:
  bool decoupled_;
  std::vector<Tensor> exp_avg_, exp_avg_sq_, step_;  // step_: int64 scalars on the CPU
};

class AdamW : public Adam {
 public:
  AdamW(NamedTensors params, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0.01);
};

// Global-norm clipping: the L2 norm of all gradients together (accumulated in double) is
// returned; when it exceeds max_norm (and is finite) every gradient is replaced by
// g * max_norm / (norm + 1e-6), PyTorch's coefficient. Parameters without a gradient are
// ignored; a tensor listed twice counts once. The gradients are replaced, not written in place,
// because backward may share one gradient tensor between parameters.
double clip_grad_norm(const NamedTensors& params, double max_norm);
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

// Learning rate as a function of the step index (0-based: the number of steps already taken).
//   warmup:   step < warmup  ->  base_lr * (step + 1) / warmup
//   constant: base_lr afterwards
//   cosine:   min_lr + (base_lr - min_lr) * (1 + cos(pi * (step - warmup) / (total - warmup))) / 2
//             for warmup <= step < total, min_lr from total on
class LrSchedule {
 public:
  enum class Kind { Constant, Cosine };
  LrSchedule(Kind kind, double base_lr, int64_t warmup = 0, int64_t total = 0, double min_lr = 0);
  double at(int64_t step) const;
  Kind kind;
  double base_lr;
  int64_t warmup, total;
  double min_lr;
};

// name: "constant" or "cosine".
LrSchedule make_schedule(const std::string& name, double base_lr, int64_t warmup = 0, int64_t total = 0,
                         double min_lr = 0);

}  // namespace gs::nn
