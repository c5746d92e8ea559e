#pragma once
// One reusable training loop for a LanguageModel on a TokenStream:
//   sample (B, T) windows from a seeded generator -> loss -> backward -> clip -> optimiser step,
// with a learning-rate schedule, a progress bar on a terminal (plain lines otherwise), periodic
// atomic checkpoints, and a callback after every step (analysis attaches here). Deterministic
// given the seed; resuming from a checkpoint reproduces the uninterrupted run's losses bit for bit
// (model, optimiser state, step and the data generator are all in the checkpoint).
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nn/data.h"
#include "nn/lm.h"
#include "nn/optim.h"

namespace gs::comm {
class Communicator;
}
namespace gs::nn {
class GradBuckets;
}

namespace gs::nn {

struct TrainConfig {
  int64_t steps = 200;
  int64_t batch = 16;
  int64_t seq_len = 64;
  std::string optimizer = "adamw";  // sgd | adam | adamw
  double lr = 3e-3;
  double momentum = 0.9;            // sgd only
  double weight_decay = 0.0;
  std::string schedule = "cosine";  // constant | cosine
  int64_t warmup = 10;
  double min_lr_ratio = 0.1;        // cosine decays to lr * min_lr_ratio
  double clip = 1.0;                // global gradient-norm clip; <= 0 disables
  uint64_t seed = 0;                // data sampling
  std::string checkpoint_path;      // empty: no checkpoints
  int64_t checkpoint_every = 0;     // steps between checkpoints (0: only at the end, when a path is set)
  int64_t log_every = 10;           // plain-line logging interval (when not a terminal)
  bool progress = true;             // print progress at all
  // The loss path (LossOptions::fused): true, the head's fused chunked cross-entropy (no [N, V]
  // logits held); false, logits then cross_entropy. Same loss and gradients up to rounding.
  bool fused_loss = true;
};

struct StepInfo {
  int64_t step;        // 1-based: steps completed
  double loss;         // this step's training loss (before the update)
  double lr;
  double grad_norm;    // global gradient norm before clipping
  double tokens_per_s; // since the run (or resume) started
  const Batch& batch;  // the batch this step trained on
};
using StepCallback = std::function<void(const StepInfo&)>;

class Trainer {
 public:
  Trainer(std::shared_ptr<LanguageModel> model, TokenStream data, TrainConfig config);
  ~Trainer();
  Trainer(Trainer&&) noexcept;
  Trainer& operator=(Trainer&&) noexcept;
  // Restores model, optimiser, step and data generator from a checkpoint written by this loop.
  // The checkpoint also records the run that wrote it (run_record below: the recipe and a
  // fingerprint of the data). A resume that would not continue that run (another --steps moves
  // the schedule's horizon, another --lr, batch, seed or text changes what follows) is refused,
  // naming each differing field with both values, unless policy.allow_run_changes; then the
  // differences are returned (for the caller to print) and this run's settings apply. A checkpoint
  // with no record (written before it was kept) is resumed with one note saying so. Nothing is
  // written to the model, the optimiser or this Trainer when it throws.
  struct ResumePolicy {
    bool allow_run_changes = false;
    std::string how_to_allow = "set ResumePolicy::allow_run_changes";  // ends the refusal message
  };
  std::vector<std::string> resume(const std::string& path, const ResumePolicy& policy);
  std::vector<std::string> resume(const std::string& path) { return resume(path, ResumePolicy{}); }
  // Runs until config.steps steps are done; returns the losses of the steps run by this call.
  std::vector<double> run(const StepCallback& on_step = {});

  // Data parallelism over the processes of a communicator (comm/communicator.h; by default
  // comm::world(): every rank of mpirun, or this process alone). Every rank draws the same global
  // batch of config.batch sequences and trains on its own config.batch / size consecutive ones;
  // during the backward pass the gradients are summed over the ranks in buckets (nn/grad_buckets.h:
  // each bucket's collective starts as soon as its gradients are ready) and divided by size, so a step
  // is the step one process takes on the whole batch (up to the order of the sums), and the loss
  // and tokens/s reported (run's losses, StepInfo) are the whole world's. Clipping uses the global
  // gradient. Only rank 0 prints progress and writes checkpoints; every rank resumes from the same
  // file, whatever the world size that wrote it. config.batch must be a multiple of the size.
  // Parameters on CUDA need the NCCL communicator (builds with the CUDA backend and MPI; each rank
  // on its own GPU, comm::select_local_device); without it they throw.
  void set_communicator(comm::Communicator& c);
  int world_size() const;
  bool is_root() const;
  void save(const std::string& path) const;

  // Optional: called before each step's loss with the 1-based number that step will have and its
  // batch; a non-empty result becomes the fused loss's on_chunk for that step, so a caller (the
  // analysis) receives the step's own G chunk by chunk from the training pass itself. Needs
  // config.fused_loss (a hook returned with the unfused path is refused by LanguageModel::loss).
  std::function<LinearCrossEntropyChunkFn(int64_t step, const Batch& batch)> loss_chunk_hook;

  int64_t step() const { return step_; }
  LanguageModel& model() { return *model_; }
  Optimizer& optimizer() { return *opt_; }
  const TrainConfig& config() const { return config_; }

 private:
  std::shared_ptr<LanguageModel> model_;
  TokenStream data_;
  TrainConfig config_;
  std::unique_ptr<Optimizer> opt_;
  LrSchedule schedule_;
  Generator data_gen_;
  int64_t step_ = 0;
  comm::Communicator* comm_ = nullptr;  // null: comm::world(), looked up at the first use
  comm::Communicator& comm() const;
  std::unique_ptr<GradBuckets> buckets_;  // made at the first run() in a world of several ranks
  std::map<std::string, std::string> run_record_;  // run_record(config_, data_), hashed once
};

std::unique_ptr<Optimizer> make_optimizer(const TrainConfig& c, const NamedTensors& params);

// What defines a run beyond the model, as a checkpoint records it (metadata "config.run.<key>"):
// steps, batch, seq_len, optimizer, lr, momentum, weight_decay, schedule, warmup, min_lr_ratio,
// clip, seed, fused_loss, and data = "<n> tokens, vocab <V>, fnv1a64 <16 hex digits>" (a
// fingerprint of the token ids, so another --text or tokenizer shows). Numbers are written
// round-trip exact (%.17g). Not recorded: where and how often checkpoints go, logging.
std::map<std::string, std::string> run_record(const TrainConfig& c, const TokenStream& data);

}  // namespace gs::nn
