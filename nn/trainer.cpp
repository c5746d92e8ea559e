#include "nn/trainer.h"

#include <unistd.h>

#include <chrono>
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "autograd/ops.h"
#include "nn/checkpoint.h"

namespace gs::nn {
namespace {

std::string eta_str(double seconds) {
  char buf[32];
  const long s = static_cast<long>(seconds + 0.5);
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  else std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  return buf;
}

void progress_line(bool tty, int64_t step, int64_t total, double loss, double tps, double eta) {
  if (tty) {
    const int width = 24;
    const int fill = static_cast<int>(width * static_cast<double>(step) / static_cast<double>(total));
    std::fprintf(stderr, "\r[%.*s%*s] %ld/%ld loss %.4f  %.0f tok/s  ETA %s   ", fill, "########################",
                 width - fill, "", static_cast<long>(step), static_cast<long>(total), loss, tps, eta_str(eta).c_str());
    if (step == total) std::fprintf(stderr, "\n");
  } else {
    std::fprintf(stderr, "step %ld/%ld loss %.4f %.0f tok/s ETA %s\n", static_cast<long>(step), static_cast<long>(total),
                 loss, tps, eta_str(eta).c_str());
  }
}

// The sizes the schedule and the loop need, checked before either is built (the schedule's own
// message, "warmup must be >= 0", would not name the field the caller set).
TrainConfig checked(TrainConfig c) {
  if (c.steps < 0 || c.batch < 1 || c.seq_len < 1)
    fail("Trainer", "steps >= 0, batch >= 1 and seq_len >= 1 required, got steps = ", c.steps, ", batch = ", c.batch,
         ", seq_len = ", c.seq_len);
  if (c.checkpoint_every < 0) fail("Trainer", "checkpoint_every must be >= 0 (0: only at the end), got ", c.checkpoint_every);
  return c;
}

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const TrainConfig& c, const NamedTensors& params) {
  if (c.optimizer == "sgd") return std::make_unique<SGD>(params, c.lr, c.momentum, false, c.weight_decay);
  if (c.optimizer == "adam") return std::make_unique<Adam>(params, c.lr, 0.9, 0.999, 1e-8, c.weight_decay);
  if (c.optimizer == "adamw") return std::make_unique<AdamW>(params, c.lr, 0.9, 0.999, 1e-8, c.weight_decay);
  fail("TrainConfig", "unknown optimizer '", c.optimizer, "' (expected sgd, adam or adamw)");
}

Trainer::Trainer(std::shared_ptr<LanguageModel> model, TokenStream data, TrainConfig config)
    : model_(std::move(model)),
      data_(std::move(data)),
      config_(checked(std::move(config))),
      // short runs: warmup never longer than the run itself
      schedule_(make_schedule(config_.schedule, config_.lr, std::min(config_.warmup, config_.steps),
                              std::max<int64_t>(1, config_.steps), config_.lr * config_.min_lr_ratio)),
      data_gen_(config_.seed) {
  if (!model_) fail("Trainer", "model is null");
  if (config_.seq_len > model_->config().context && model_->config().backbone == "transformer")
    fail("Trainer", "seq_len ", config_.seq_len, " exceeds the model's context ", model_->config().context);
  if (data_.vocab_size() > model_->config().vocab)
    fail("Trainer", "data vocabulary ", data_.vocab_size(), " exceeds the model's vocab ", model_->config().vocab);
  opt_ = make_optimizer(config_, model_->named_parameters());
}

void Trainer::save(const std::string& path) const {
  auto cfg = model_->config().to_map();
  save_checkpoint(path, *model_, opt_->state(), step_, data_gen_, cfg);
}

void Trainer::resume(const std::string& path) {
  Checkpoint ck = load_checkpoint(path);
  const LMConfig saved = LMConfig::from_map(ck.config, /*strict=*/false);
  if (saved.tokenizer != model_->config().tokenizer)
    fail(path, "checkpoint was trained on ids of the '", saved.tokenizer, "' tokenizer, this run uses '",
         model_->config().tokenizer, "'");
  if (!(saved == model_->config())) {
    // name every field that differs, with both values
    const auto old_map = saved.to_map(), new_map = model_->config().to_map();
    std::string diff;
    for (const auto& [k, v] : old_map) {
      const auto it = new_map.find(k);
      if (it != new_map.end() && it->second != v)
        diff += (diff.empty() ? "" : ", ") + k + " " + v + " in the checkpoint, " + it->second + " in this run";
    }
    fail(path, "checkpoint was written for a different model configuration (", diff, ")");
  }
  // validate everything before writing anything: load_model_state and load_state each check
  // names and shapes first and write nothing on failure
  load_model_state(ck, *model_);
  opt_->load_state(ck.optim);
  data_gen_.set_state(ck.rng);
  step_ = ck.step;
}

std::vector<double> Trainer::run(const StepCallback& on_step) {
  std::vector<double> losses;
  const bool tty = config_.progress && isatty(STDERR_FILENO);
  const auto t0 = std::chrono::steady_clock::now();
  int64_t tokens = 0;
  model_->train();
  while (step_ < config_.steps) {
    const double lr = schedule_.at(step_);
    opt_->lr = lr;
    Batch b = data_.sample(config_.batch, config_.seq_len, data_gen_);
    LossOptions lo;
    lo.fused = config_.fused_loss;
    if (loss_chunk_hook) lo.on_chunk = loss_chunk_hook(step_ + 1, b);
    Tensor loss = model_->loss(b.inputs, b.targets, lo);
    const double lv = loss.item<double>();
    if (!std::isfinite(lv)) fail("train", "loss is ", lv, " at step ", step_ + 1, "; lower the learning rate");
    backward(loss);
    const double gnorm = config_.clip > 0 ? clip_grad_norm(model_->named_parameters(), config_.clip)
                                          : clip_grad_norm(model_->named_parameters(), INFINITY);
    opt_->step();
    opt_->zero_grad();
    ++step_;
    losses.push_back(lv);
    tokens += b.inputs.numel();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double tps = secs > 0 ? static_cast<double>(tokens) / secs : 0;
    if (on_step) on_step({step_, lv, lr, gnorm, tps, b});
    if (config_.progress && (tty || step_ % std::max<int64_t>(1, config_.log_every) == 0 || step_ == config_.steps)) {
      const double per_step = secs / static_cast<double>(losses.size());
      progress_line(tty, step_, config_.steps, lv, tps, per_step * static_cast<double>(config_.steps - step_));
    }
    if (!config_.checkpoint_path.empty() && config_.checkpoint_every > 0 && step_ % config_.checkpoint_every == 0)
      save(config_.checkpoint_path);
  }
  if (!config_.checkpoint_path.empty()) save(config_.checkpoint_path);
  return losses;
}

}  // namespace gs::nn
