#pragma once
// Remedies for the bottleneck, compared: every head (full, factorized, mos, mlp, sigsoftmax or a
// registered one) on the same backbone, data and recipe, each measured exactly.
//
// Per head:
//   text        a language model (cfg.model with that head) trained `text_steps` steps on the
//               token stream; loss = mean cross-entropy on `eval_batches` fixed held-out batches
//               after training; ms_per_step = training wall time / steps.
//   measurement measure_bottleneck on one held-out batch with the leak test: destroyed_fraction is
//               the exact figure (column space for a linear head, the per-token Jacobian metric
//               otherwise), linear_destroyed_fraction the column-space figure of a linear head
//               (NaN for the others), leak_destroyed_max the leak test's worst node.
//   spamlang    run_spamlang at V = ratio x D for each ratio in spamlang_ratios (same head, the
//               model's D, every symbol covered `spamlang_cover` times): held-out accuracy.
// Matched budget: the factorized head's rank is floor(V D / (V + D)), the largest whose r (V + D)
// parameters stay within the full head's V D; the others keep D and report their own count
// (head_parameters): mos adds K (D^2 + 2 D), mlp D^2 + D, sigsoftmax nothing.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "analysis/experiments.h"
#include "nn/data.h"
#include "nn/lm.h"

namespace gs::analysis {

struct RemediesConfig {
  std::vector<std::string> heads{"full", "factorized", "mos", "mlp", "sigsoftmax"};
  nn::LMConfig model;  // backbone, sizes, dtype, seed; vocab from the text; head set per entry
  int64_t text_steps = 200, batch = 16, seq_len = 32;
  double lr = 3e-3;
  int64_t eval_batches = 4;
  std::vector<int64_t> spamlang_ratios{64, 256};  // V / D of the SpamLang runs (empty: none)
  int64_t spamlang_steps = 150, spamlang_batch = 128, spamlang_cover = 2;
  double spamlang_lr = 3e-3;
  Log log;
};

struct RemedyRun {
  std::string head;
  int64_t head_parameters = 0;
  std::string metric;                 // "column_space" | "jacobian"
  double destroyed_fraction = 0;      // exact
  double linear_destroyed_fraction = 0;  // NaN when the head is not linear
  double leak_destroyed_max = 0;
  double loss = 0;                    // held-out text loss after training
  double ms_per_step = 0;
  std::vector<int64_t> spamlang_vocab;     // one entry per ratio
  std::vector<double> spamlang_accuracy;
};

// Errors ("remedies: ..."): an empty head list, an unknown head, non-positive steps / batch /
// seq_len / eval_batches, a ratio < 2, a text shorter than seq_len + 1.
std::vector<RemedyRun> run_remedies(const RemediesConfig& cfg, const nn::TokenStream& text);

}  // namespace gs::analysis
