#pragma once
// The backbones experiment (`gradscope backbones`): the same head (V, D), data and budget on each
// backbone, several seeds each, every run watched by the bottleneck monitor (analysis/watch.h):
// the destroyed fraction at initialisation and after training, next to sqrt(1 - k/V), what a
// random direction in R^V loses in a k-dimensional subspace.
#include <cstdint>
#include <vector>

#include "analysis/experiments.h"
#include "analysis/monitor.h"
#include "analysis/watch.h"
#include "nn/lm.h"
#include "nn/trainer.h"

namespace gs::analysis {

struct BackbonesConfig {
  std::vector<nn::LMConfig> models;  // one per backbone, each with the seed of its first run
  int64_t seeds = 3;                 // runs per model, with seeds seed, seed + 1, ...
  nn::TrainConfig train;             // the recipe; its seed is each run's model seed
  // with keep_inputs only the last sample's inputs are kept; with comm every run is data
  // parallel over its processes (train_and_watch), each measurement that of the whole batch
  MonitorOptions monitor;
  WatchData data;
  Device device = Device::CPU;       // each model is built on the CPU, then moved there
  Log log;                           // "[1/9] transformer seed 0", "  destroyed ... -> ..." per run
};

struct BackboneRun {
  nn::BackboneKind backbone = nn::BackboneKind::transformer;
  int64_t seed = 0;
  int64_t rank = 0;  // k, the width of the head's matrix
  // the first and the last measurement (on the batch of the last step, after its update)
  double init_loss = 0, final_loss = 0, destroyed_init = 0, destroyed_final = 0, update_cosine_final = 0;
  std::vector<BottleneckSample> samples;
};

// The runs in the order of cfg.models, then seed. Throws "backbones: ..." for no model or
// seeds < 1; a model's own errors as they come.
std::vector<BackboneRun> run_backbones(const BackbonesConfig& cfg);

// sqrt(1 - k/V) (0 for k >= V): the destroyed fraction of a random direction in R^V seen through a
// k-dimensional subspace.
double random_direction_destroyed(int64_t k, int64_t vocab);

}  // namespace gs::analysis
