#pragma once
// The reproduction experiments of PAPER.md claims 3 and 4 at small scale, as library functions
// (the CLI commands spamlang, head-rank and equal-norm only parse, print and plot):
//
//   run_spamlang    one model per (V, D, seed) on SpamLang with an identical budget -> final
//                   held-out loss, accuracy, destroyed fraction; plus a full-rank control per
//                   (V, seed): a direct logit table (below) trained with the same budget.
//   run_head_rank   one model per rank r of a factorized head D -> r -> V, same data and budget
//                   -> loss curves and the token-efficiency ratio.
//   run_equal_norm  from a model and a batch: loss decrease of the direct logit step
//                   Z - eps G/||G|| vs the logit change one SGD step through the network makes,
//                   rescaled to the same Frobenius norm, over a sweep of eps.
//
// Every training run here uses train_loop(): AdamW (weight decay 0), linear warmup then cosine
// decay to lr/10, global-norm clipping at 1, one fresh batch per step from a seeded generator --
// the same recipe as nn::Trainer, but on any batch source (SpamLang has no token stream).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "analysis/spamlang.h"
#include "nn/data.h"
#include "nn/lm.h"
#include "nn/module.h"
#include "nn/trainer.h"

namespace gs::comm {
class Communicator;
}

namespace gs::analysis {

// Progress lines ("spamlang V=256 D=16 seed=0: ..."); empty: silent.
using Log = std::function<void(const std::string&)>;
using BatchSource = std::function<nn::Batch(Generator&)>;

// Trains `params` on loss_of(batch) for tc.steps steps: batches from `source` driven by a
// Generator seeded with tc.seed; optimiser tc.optimizer (sgd | adam | adamw) at tc.lr with
// min(tc.warmup, tc.steps) steps of warmup and tc.schedule; clip at tc.clip. Returns the per-step training
// losses. Throws naming the step when a loss is not finite. on_step(step, loss) (1-based step)
// runs after every update when given.
// ranks (data parallelism, as nn::Trainer's): every rank draws the same global batch from `source`,
// loss_of sees this rank's share (nn::rank_share; the batch must split
// evenly), the gradients are averaged over the ranks in buckets during the backward pass
// (nn/grad_buckets.h), and the losses returned and passed to on_step are the mean over the ranks
// (the whole batch's loss for equal shares). Every rank must run the same loop; the parameters
// as nn::GradBuckets takes them (on the CPU, or CUDA with NCCL). null, or a world of one: this
// process alone.
std::vector<double> train_loop(const nn::NamedTensors& params, const std::function<Tensor(const nn::Batch&)>& loss_of,
                               const BatchSource& source, const nn::TrainConfig& tc,
                               const std::function<void(int64_t, double)>& on_step = {},
                               comm::Communicator* ranks = nullptr);

// The full-rank control: logits = e^s * table[current token], a learned [V, V] matrix (zero at
// init, so the first logits are uniform) times one learned global scale e^s (s = 0 at init).
// The table's entries are the logits themselves, so nothing sits between the logits and their
// parameters: the whole logit gradient G reaches them (destroyed fraction 0); it is the D >= V
// limit without a backbone. Why the scale: AdamW moves every parameter by about lr per step, so a
// bare table's margins only grow linearly with the visits of a row (it gets the argmax right
// after one visit but its loss falls slowly), while an LM's logits are products of parameters;
// the scale gives the table the same multiplicative growth. It costs V^2 + 1 parameters (plus
// AdamW's two moment buffers of that size) and V^2 work per optimiser step.
class DirectLogitTable : public nn::Module {
 public:
  explicit DirectLogitTable(int64_t vocab, DType dtype = kFloat32);
  Tensor forward(const Tensor& tokens) const;  // [B, T] int64 -> [B*T, V]
  Tensor loss(const Tensor& tokens, const Tensor& targets) const;
  int64_t vocab() const { return table.size(0); }
  Tensor table, log_scale;  // [V, V], [1]
};

// Held-out evaluation on SpamLang: mean cross-entropy and next-token accuracy over all positions
// of `sequences` fresh sequences (see spamlang_accuracy), no graph, eval mode.
struct SpamLangEval {
  double loss = 0, accuracy = 0;
};
SpamLangEval evaluate_spamlang(nn::LanguageModel& model, const SpamLang& data, int64_t sequences, Generator& gen,
                               int64_t batch = 64);
SpamLangEval evaluate_spamlang(const DirectLogitTable& table, const SpamLang& data, int64_t sequences, Generator& gen,
                               int64_t batch = 64);

// ---- SpamLang grid ------------------------------------------------------------------------------
struct SpamLangRun {
  int64_t vocab = 0, dim = 0, seed = 0;
  int64_t steps = 0;              // optimiser steps this run took (see SpamLangConfig::cover)
  int64_t unseen_symbols = 0;     // symbols never the input of a training sequence
  double final_loss = 0;          // held-out mean cross-entropy after training
  double accuracy = 0;            // held-out next-token accuracy (all positions)
  double destroyed_fraction = 0;  // head_metrics on one held-out batch of eval size (<= 64 sequences)
  double seconds = 0;
  std::vector<double> losses;     // training loss per step
};
struct SpamLangConfig {
  std::vector<int64_t> vocabs{64, 1024};
  std::vector<int64_t> dims{8, 64};
  int64_t seeds = 1;       // seeds 0..seeds-1, each offset by model.seed
  nn::LMConfig model;      // backbone, layers, heads, head kind ...; vocab, d_model, context, seed set per run
  int64_t steps = 200, batch = 32, seq_len = 8;
  double lr = 3e-3;
  int64_t warmup = 10;
  double zipf = 0;                // 0: uniform symbols
  // > 0 (uniform symbols only): the training symbols come in shuffled passes over the vocabulary
  // (SpamLangPasses) and each V trains for max(steps, ceil(cover V / batch)) steps, so that every
  // symbol is the input of at least `cover` training sequences. 0: i.i.d. uniform draws, `steps`
  // for every V (at large V many symbols are then never seen).
  int64_t cover = 0;
  int64_t eval_sequences = 512;   // held-out sequences for loss and accuracy
  bool control = true;            // also train a DirectLogitTable per (V, seed)
  double control_lr = 0.1;        // its peak lr (same steps, batch, data and schedule as the LMs; a
                                  // table needs a larger lr than an LM: see DirectLogitTable)
  // The wide control: the same backbone and recipe (lr, steps, batches, schedule) at the smallest
  // width D >= V the backbone accepts (wide_control_dim), per (V, seed) for V <= wide_control_max_vocab.
  // Its head is square or wider, so it destroys nothing: if it learns where the D << V models fail,
  // the width, not the backbone or the recipe, is what they lack. Its cost grows as V^2 per token.
  bool wide_control = true;
  int64_t wide_control_max_vocab = 1024;
  Log log;
  // Called after each trained language model (the D-grid runs and the wide controls) with its result,
  // the model and the batch its destroyed_fraction was measured on: lets a caller recompute a logged
  // number from the model itself.
  std::function<void(const SpamLangRun&, nn::LanguageModel&, const nn::Batch&)> on_model;
};
struct SpamLangControl {
  int64_t vocab = 0, seed = 0, steps = 0;
  double final_loss = 0, accuracy = 0, seconds = 0;
  std::vector<double> losses;
};
struct SpamLangResult {
  std::vector<SpamLangRun> runs;          // order: vocab, then dim, then seed
  std::vector<SpamLangControl> controls;  // order: vocab, then seed
  std::vector<SpamLangRun> wide;          // the wide controls (dim = wide_control_dim): vocab, then seed
};
// The width of the wide control for vocabulary V: V, rounded up to a multiple of the backbone's
// width_multiple() (the transformer's head count; other backbones take any width).
int64_t wide_control_dim(const nn::LMConfig& model, int64_t V);
// Errors ("spamlang: ..."): empty vocab or dim list, a size < 2, seeds < 1, non-positive
// steps/batch/seq_len/eval_sequences, lr not finite and > 0, cover < 0 or with zipf, a bad model
// config.
SpamLangResult run_spamlang(const SpamLangConfig& cfg);
// The checks run_spamlang makes before training anything (for callers that want to fail early).
void check_spamlang_config(const SpamLangConfig& cfg);

// ---- head rank ------------------------------------------------------------------------------------
struct HeadRankCurve {
  int64_t rank = 0;
  std::vector<double> losses, smoothed;  // per step; smoothed[i] = mean of losses[max(0, i-w+1) .. i]
  double final_loss = 0;                 // smoothed.back()
  int64_t tokens_to_target = -1;         // first (i + 1) * tokens_per_step with smoothed[i] <= target; -1: never
  double destroyed_fraction = 0;         // on the last training batch, after training
  double seconds = 0;
};
struct HeadRankConfig {
  std::vector<int64_t> ranks{8, 16, 32, 64};
  nn::LMConfig model;  // backbone, d_model, vocab, layers ...; head = factorized with each rank
  int64_t steps = 200, batch = 16, seq_len = 32;
  double lr = 3e-3;
  int64_t warmup = 10;
  uint64_t data_seed = 0;  // every rank sees the same batches
  BatchSource data;        // required: text windows or SpamLang
  int64_t smooth = 0;      // running-mean window (steps); 0: max(1, steps / 10)
  Log log;
  // Called after each rank's training with its curve, the model and the batch its
  // destroyed_fraction was measured on (the last training batch; with comm, this process's share).
  std::function<void(const HeadRankCurve&, nn::LanguageModel&, const nn::Batch&)> on_model;
  // Data parallelism over the processes of this communicator (train_loop's; `batch` must be a
  // multiple of their number): every process trains each model on its share of the same batches,
  // and the losses and the destroyed fraction (head_metrics across ranks) are those of the whole
  // batches, the same in every process. Every process must run the experiment. null: this
  // process alone.
  comm::Communicator* comm = nullptr;
};
struct HeadRankResult {
  std::vector<HeadRankCurve> curves;  // in increasing rank order
  int64_t tokens_per_step = 0;        // batch * seq_len
  int64_t window = 0;                 // smoothing window used
  int64_t lowest_rank = 0, highest_rank = 0;
  double target_loss = 0;             // the lowest-rank model's final (smoothed) loss
  int64_t tokens_lowest = 0;          // tokens the lowest-rank model trained on (steps * tokens_per_step)
  int64_t tokens_highest = -1;        // tokens the highest-rank model needed to reach target_loss (-1: never)
  double ratio = 0;    // tokens_highest / tokens_lowest (NaN when never reached); < 1: the wider head is faster
  double speedup = 0;  // 1 / ratio: the paper's "16x" reads this way
};
// Errors ("head-rank: ..."): empty ranks, a rank < 1 or > d_model, no data source, bad sizes, a
// batch that does not split over cfg.comm's processes.
HeadRankResult run_head_rank(const HeadRankConfig& cfg);
// The checks run_head_rank makes before training anything (cfg.data may still be empty here).
void check_head_rank_config(const HeadRankConfig& cfg);
// The trailing running mean used by run_head_rank (window >= 1).
std::vector<double> running_mean(const std::vector<double>& x, int64_t window);

// ---- equal norm -----------------------------------------------------------------------------------
// Construction (all at one batch, logits Z [N, V], L(Z) mean cross-entropy, G = dL/dZ):
//   direct:   Z_d = Z - eps * G / ||G||_F
//   network:  theta' = theta - sgd_lr * dL/dtheta (plain SGD on ALL parameters, one step),
//             dZ = f(theta') - Z, Z_n = Z + eps * dZ / ||dZ||_F
//   backbone: the same with only the backbone's parameters stepped (the head frozen): the logit
//             change that is routed through dL/dH alone
// decrease = L(Z) - L(Z + step); ratio = decrease_direct / decrease_network. Both steps have norm
// eps, so for small eps ratio -> 1 / cos(dZ, -G) (first order); sgd_lr only sets how linear dZ
// is (it is normalised away), so keep it small and run in float64 (the CLI converts the model)
// so Z' - Z is not rounding noise. The parameters are restored exactly afterwards.
struct EqualNormConfig {
  std::vector<double> eps{1e-3, 1e-2, 1e-1, 1, 10};
  double sgd_lr = 1e-3;
};
struct EqualNormPoint {
  double eps = 0;
  double decrease_direct = 0, decrease_network = 0, decrease_backbone = 0;
  double ratio = 0, ratio_backbone = 0;  // NaN when the network step does not lower the loss
};
struct EqualNormResult {
  int64_t tokens = 0, vocab = 0, dim = 0;
  double loss = 0;            // L(Z)
  double grad_norm = 0;       // ||G||_F
  double dz_norm = 0, dz_backbone_norm = 0;    // ||dZ||_F of the two SGD steps (before rescaling)
  double cosine = 0, cosine_backbone = 0;      // cos(dZ, -G)
  double sgd_lr = 0;
  std::vector<EqualNormPoint> points;
};
// Errors ("equal-norm: ..."): empty eps list, an eps <= 0 or not finite, sgd_lr <= 0, a batch the
// model rejects.
EqualNormResult run_equal_norm(nn::LanguageModel& model, const nn::Batch& batch, const EqualNormConfig& cfg = {});

}  // namespace gs::analysis
