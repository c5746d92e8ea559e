#pragma once
// A training run watched by the bottleneck monitor, on text or SpamLang: what `gradscope
// bottleneck` and `gradscope backbones` run for each model. The recipe is nn::Trainer's (AdamW,
// warmup + cosine, clip); the monitor measures the head before the first step and after every
// MonitorOptions::every-th step and the last one, on the batch that step trained on.
#include <cstdint>
#include <memory>
#include <vector>

#include "analysis/monitor.h"
#include "analysis/spamlang.h"
#include "nn/data.h"
#include "nn/lm.h"
#include "nn/trainer.h"

namespace gs::analysis {

// Training data: a token stream (text) or SpamLang; exactly one is set.
struct WatchData {
  std::shared_ptr<nn::TokenStream> text;
  std::shared_ptr<SpamLang> spam;
  // `batch` sequences of seq_len tokens; SpamLang makes sequences of its own length, and a
  // different seq_len throws "SpamLang was made for 8 tokens, asked for 4".
  nn::Batch sample(int64_t batch, int64_t seq_len, Generator& gen) const;
};

// Trains `model` with tc's recipe on `data` while a BottleneckMonitor measures the head: at step 0
// on a batch drawn from probe_gen, then after every mo.every-th step and the last one on the batch
// that step trained on. Text goes through nn::Trainer (its progress bar when tc.progress);
// SpamLang, which has no token stream, through train_loop with a plain progress line on stderr
// every tc.log_every steps. Returns the samples.
// With mo.comm spanning several processes the run is data parallel over them (both paths; the
// batch must split evenly): every process draws the same batches and trains and measures on its
// share (the measurements are of the whole batches, MonitorOptions::comm); only rank 0 prints
// progress. Without it this process trains alone, even under mpirun.
std::vector<BottleneckSample> train_and_watch(const std::shared_ptr<nn::LanguageModel>& model, const WatchData& data,
                                              const nn::TrainConfig& tc, const MonitorOptions& mo,
                                              Generator& probe_gen);

}  // namespace gs::analysis
