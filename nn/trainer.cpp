#include "nn/trainer.h"

#include <unistd.h>

#include <chrono>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "autograd/ops.h"
#include "comm/communicator.h"
#include "nn/checkpoint.h"
#include "nn/file_io.h"
#include "nn/grad_buckets.h"
#include "tensor/ops.h"

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

constexpr const char* kRunPrefix = "run.";  // under the checkpoint's "config." keys

std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// FNV-1a over the little-endian bytes of every id: a fingerprint, not a security hash; it tells
// another text or tokenizer apart from the one a checkpoint was trained on.
std::string fingerprint(const TokenStream& data) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const int64_t t : data.tokens()) {
    uint64_t u = static_cast<uint64_t>(t);
    for (int i = 0; i < 8; ++i, u >>= 8) h = (h ^ (u & 0xff)) * 0x100000001b3ull;
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, "%lld tokens, vocab %lld, fnv1a64 %016llx", static_cast<long long>(data.size()),
                static_cast<long long>(data.vocab_size()), static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

std::map<std::string, std::string> run_record(const TrainConfig& c, const TokenStream& data) {
  return {{"steps", std::to_string(c.steps)},
          {"batch", std::to_string(c.batch)},
          {"seq_len", std::to_string(c.seq_len)},
          {"optimizer", c.optimizer},
          {"lr", exact(c.lr)},
          {"momentum", exact(c.momentum)},
          {"weight_decay", exact(c.weight_decay)},
          {"schedule", c.schedule},
          {"warmup", std::to_string(c.warmup)},
          {"min_lr_ratio", exact(c.min_lr_ratio)},
          {"clip", exact(c.clip)},
          {"seed", std::to_string(c.seed)},
          {"fused_loss", c.fused_loss ? "true" : "false"},
          {"data", fingerprint(data)}};
}

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
  if (config_.seq_len > model_->max_seq_len())
    fail("Trainer", "seq_len ", config_.seq_len, " exceeds the model's context ", model_->max_seq_len());
  if (data_.vocab_size() > model_->config().vocab)
    fail("Trainer", "data vocabulary ", data_.vocab_size(), " exceeds the model's vocab ", model_->config().vocab);
  opt_ = make_optimizer(config_, model_->named_parameters());
  // the checkpoint's place is checked now, not at the first save steps later
  if (!config_.checkpoint_path.empty()) check_writable_target(config_.checkpoint_path);
  run_record_ = run_record(config_, data_);  // once: the fingerprint reads every token
}

void Trainer::save(const std::string& path) const {
  auto cfg = model_->config().to_map();
  for (const auto& [k, v] : run_record_) cfg.emplace(kRunPrefix + k, v);
  save_checkpoint(path, *model_, opt_->state(), step_, data_gen_, cfg);
}

std::vector<std::string> Trainer::resume(const std::string& path, const ResumePolicy& policy) {
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
  // the run: every recorded field against this one's
  std::vector<std::string> changes;
  bool recorded = false;
  const size_t plen = std::strlen(kRunPrefix);
  const auto& mine = run_record_;
  for (const auto& [key, old_value] : ck.config) {
    if (key.compare(0, plen, kRunPrefix) != 0) continue;
    recorded = true;
    const std::string field = key.substr(plen);
    const auto it = mine.find(field);
    if (it == mine.end()) continue;  // a field this version does not record: nothing to compare
    if (it->second != old_value) changes.push_back(field + " " + old_value + " in the checkpoint, " + it->second + " in this run");
  }
  if (!changes.empty() && !policy.allow_run_changes) {
    std::string list;
    for (const auto& c : changes) list += (list.empty() ? "" : "; ") + c;
    fail(path, "this run differs from the one that wrote the checkpoint (", list,
         "), so resuming would not continue that run; to go on with this run's settings anyway, ", policy.how_to_allow);
  }
  if (!recorded) changes.push_back("the checkpoint records no run settings (written by an earlier gradscope): not compared");
  if (ck.step > config_.steps)
    fail(path, "the checkpoint is at step ", ck.step, ", past this run's ", config_.steps, " steps");
  // the optimiser's state checked first (its message names the file: the optimiser's own only
  // names the entry), then each part is written: load_model_state checks before it writes
  try {
    opt_->check_state(ck.optim);
  } catch (const Error& e) {
    fail(path, e.what());
  }
  load_model_state(ck, *model_);
  opt_->load_state(ck.optim);
  data_gen_.set_state(ck.rng);
  step_ = ck.step;
  return changes;
}

Trainer::~Trainer() = default;
Trainer::Trainer(Trainer&&) noexcept = default;
Trainer& Trainer::operator=(Trainer&&) noexcept = default;

comm::Communicator& Trainer::comm() const { return comm_ ? *comm_ : comm::world(); }
void Trainer::set_communicator(comm::Communicator& c) { comm_ = &c; }
int Trainer::world_size() const { return comm().size(); }
bool Trainer::is_root() const { return comm().is_root(); }

std::vector<double> Trainer::run(const StepCallback& on_step) {
  std::vector<double> losses;
  comm::Communicator& c = comm();
  const int ranks = c.size();
  if (config_.batch % ranks != 0)
    fail("train", "batch ", config_.batch, " is not a multiple of the ", ranks, " processes: each takes batch / ",
         ranks, " sequences");
  // Which communicator sums the gradients is GradBuckets' choice: c itself for CPU parameters; for
  // CUDA parameters an NCCL communicator it makes once from c (builds with NCCL), or a refusal.
  if (ranks > 1 && !buckets_) buckets_ = std::make_unique<GradBuckets>(model_->named_parameters(), c);
  const bool progress = config_.progress && c.is_root();
  const bool tty = progress && isatty(STDERR_FILENO);
  const auto t0 = std::chrono::steady_clock::now();
  int64_t tokens = 0;
  model_->train();
  while (step_ < config_.steps) {
    const double lr = schedule_.at(step_);
    opt_->lr = lr;
    // the global batch, drawn alike on every rank; this rank keeps its share of the sequences
    const Batch b = rank_share(data_.sample(config_.batch, config_.seq_len, data_gen_), &c);
    LossOptions lo;
    lo.fused = config_.fused_loss;
    if (loss_chunk_hook) lo.on_chunk = loss_chunk_hook(step_ + 1, b);
    Tensor loss = model_->loss(b.inputs, b.targets, lo);
    double lv = loss.item<double>();
    if (buckets_) buckets_->arm();
    backward(loss);
    if (ranks > 1) {
      buckets_->finish();
      c.all_reduce_sum(&lv, 1, comm::Elem::f64);  // the mean over ranks of equal shards: the batch's mean
      lv /= static_cast<double>(ranks);
    }
    // after the reduction: every rank sees the same value, and stops together
    if (!std::isfinite(lv)) fail("train", "loss is ", lv, " at step ", step_ + 1, "; lower the learning rate");
    const double gnorm = config_.clip > 0 ? clip_grad_norm(model_->named_parameters(), config_.clip)
                                          : clip_grad_norm(model_->named_parameters(), INFINITY);
    opt_->step();
    opt_->zero_grad();
    ++step_;
    losses.push_back(lv);
    tokens += b.inputs.numel() * ranks;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double tps = secs > 0 ? static_cast<double>(tokens) / secs : 0;
    if (on_step) on_step({step_, lv, lr, gnorm, tps, b});
    if (progress && (tty || step_ % std::max<int64_t>(1, config_.log_every) == 0 || step_ == config_.steps)) {
      const double per_step = secs / static_cast<double>(losses.size());
      progress_line(tty, step_, config_.steps, lv, tps, per_step * static_cast<double>(config_.steps - step_));
    }
    if (!config_.checkpoint_path.empty() && config_.checkpoint_every > 0 && step_ % config_.checkpoint_every == 0 &&
        c.is_root())
      save(config_.checkpoint_path);
  }
  if (!config_.checkpoint_path.empty() && c.is_root()) save(config_.checkpoint_path);
  if (ranks > 1) c.barrier();  // the checkpoint is complete before any rank returns
  return losses;
}

}  // namespace gs::nn
