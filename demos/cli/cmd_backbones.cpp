// gradscope backbones: the bottleneck does not depend on the backbone. The same head (V, D, k),
// data and budget on each backbone, several seeds each: the destroyed fraction at initialisation
// and after training, the training loss, as mean +- std over seeds in a Markdown table, next to
// sqrt(1 - k/V), what a random direction in R^V loses in a k-dimensional subspace. Under
// `mpirun -np N` every run is data parallel over the processes; rank 0 alone prints and writes.
#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "analysis/backbones.h"
#include "demos/cli/commands.h"
#include "demos/cli/device_option.h"
#include "demos/cli/experiment_options.h"
#include "demos/cli/model_options.h"
#include "demos/cli/output.h"
#include "demos/cli/ranks.h"
#include "demos/cli/reports.h"
#include "demos/cli/train_data.h"

namespace gs::cli {
namespace {

// The experiment the options describe, every part checked before the output folder is made.
analysis::BackbonesConfig backbones_config(const Options& o, const std::vector<std::string>& backbones,
                                           const TrainData& data) {
  analysis::BackbonesConfig cfg;
  for (const auto& b : backbones) {
    if (std::count(backbones.begin(), backbones.end(), b) > 1)
      throw std::runtime_error("option --backbones: '" + b + "' is listed twice");
    cfg.models.push_back(model_config_from(o, data.vocab, b));
  }
  cfg.train = train_config_from(o);
  cfg.train.log_every = 50;
  cfg.monitor.every = o.integer("every");
  cfg.monitor.keep_inputs = o.on("dump-final");
  cfg.monitor.comm = &ranks();  // under mpirun: every run data parallel, measured on whole batches
  cfg.seeds = o.integer("seeds");
  if (cfg.seeds < 1) throw std::runtime_error("option --seeds: must be >= 1");
  if (cfg.monitor.every < 1) throw std::runtime_error("option --every: must be >= 1");
  for (const auto& c : cfg.models) nn::make_language_model(c);  // a bad combination (heads vs D) throws here
  cfg.data = data;
  if (is_root())  // the other processes of mpirun print nothing
    cfg.log = [](const std::string& line) {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    };
  return cfg;
}

}  // namespace

int run_backbones(const Args& args) {
  Options o("backbones",
            "Train the same head (V, D) on each backbone with several seeds and the same data and budget; report the\n"
            "destroyed fraction ||G - GQQ^T||_F / ||G||_F at initialisation and after training (on the batch of the\n"
            "last step), mean +- std over seeds, as a Markdown table next to sqrt(1 - k/V).");
  o.add("backbones", "transformer,gru,ssm", "comma-separated backbones (transformer | gru | ssm)");
  add_model_options(o, /*backbone=*/false);
  add_train_data_options(o);
  o.add("seeds", "3", "seeds per backbone (seed, seed + 1, ...)")
      .add("steps", "200", "training steps per model")
      .add("batch", "8", "sequences per step")
      .add("lr", "3e-3", "peak learning rate (AdamW, warmup + cosine)")
      .add("every", "50", "measure every N steps (for the curves; step 0 and the last step always)")
      .add("json", "", "also write run.json's content to this file")
      .flag("dump-final", "also write each run's last measurement's inputs, to recompute its destroyed_final "
                          "elsewhere: final_<backbone>_seed<seed>_{H,W,targets}.npy")
      .add("out", "", "output folder (default ./gradscope-out/backbones-<timestamp>)");
  add_device_option(o);
  if (!o.parse(with_bottleneck_defaults(args))) return 0;  // the bottleneck command's model

  // every check before the output folder is made
  const Device device = device_from(o);
  const std::vector<std::string> backbones = string_list(o, "backbones");
  const TrainData data = train_data_from(o, o.integer("seq-len"));
  analysis::BackbonesConfig cfg = backbones_config(o, backbones, data);
  cfg.device = device;
  std::string dir;  // rank 0's: the only one that writes
  checks_on_root([&] {
    dir = plan_run_dir("backbones", o.str("out"));  // checked; made when the results exist
    check_output_file("json", o.str("json"), dir);
  });

  const nn::LMConfig& c0 = cfg.models.front();
  const nn::TrainConfig& tc = cfg.train;
  if (is_root())
    std::printf("backbones: %s; V = %ld, D = %ld, %s head (k = %ld), %ld layers; %s; %ld seeds x %ld steps of %ld x %ld "
                "tokens -> %s\nsqrt(1 - k/V) = %.4f\n",
                o.str("backbones").c_str(), long(c0.vocab), long(c0.d_model), c0.head_label().c_str(),
                long(c0.head_rank()), long(c0.n_layer), data.description.c_str(), long(cfg.seeds), long(tc.steps),
                long(tc.batch), long(tc.seq_len), dir.c_str(),
                analysis::random_direction_destroyed(c0.head_rank(), c0.vocab));
  std::fflush(stdout);
  const std::vector<analysis::BackboneRun> runs = analysis::run_backbones(cfg);
  if (is_root()) report_backbones(cfg, runs, data.description, device_label(device), dir, o.str("json"));
  return 0;
}

}  // namespace gs::cli
