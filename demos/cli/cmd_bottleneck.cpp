// gradscope bottleneck — the main job. Trains a small language model (on the embedded text by
// default) and every k steps measures how much of the exact logit gradient the head destroys,
// the update it can still realise, and the gradient norm at every node. Ends with the leak test,
// a summary table, and run.json, metrics.csv, node_trace.csv and PNG plots in the output folder
// (with --dump-final also the final measurement's H, W and targets as .npy). Under `mpirun -np N`
// the ranks train data parallel and measure together (each its share of every batch, the metrics
// of the whole batch); rank 0 alone prints and writes (demos/cli/ranks.h).
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "analysis/data_parallel.h"
#include "analysis/monitor.h"
#include "demos/cli/commands.h"
#include "demos/cli/device_option.h"
#include "demos/cli/model_options.h"
#include "demos/cli/output.h"
#include "demos/cli/ranks.h"
#include "demos/cli/reports.h"
#include "demos/cli/train_data.h"
#include "nn/device.h"

namespace gs::cli {

int run_bottleneck(const Args& args) {
  Options o("bottleneck",
            "Train a small LM and measure, every few steps, how much of the exact logit gradient the head destroys.\n"
            "Defaults: byte-level ids (V = 256) of the embedded text, D = 32, T = 64, 200 steps, every 20.\n"
            "--tokenizer gpt2 switches to the paper's regime: GPT-2's V = 50257 on Debian's fortunes corpus,\n"
            "D = 128 (V/D = 393), T = 128, 16 x 128 = 2048 measured tokens, 150 steps, every 25 (any option\n"
            "given overrides its default).");
  add_model_options(o);
  add_train_data_options(o);
  o.add("steps", "200", "training steps")
      .add("batch", "16", "sequences per step")
      .add("lr", "3e-3", "peak learning rate (AdamW, warmup + cosine)")
      .add("every", "20", "measure every N steps")
      .flag("dump-final", "also write the final measurement's inputs, to recompute run.json's \"final\" elsewhere: "
                          "final_H.npy (head input rows [N, k]), final_W.npy (head matrix [V, k]), final_targets.npy")
      .add("out", "", "output folder (default ./gradscope-out/bottleneck-<timestamp>)");
  add_device_option(o);
  std::vector<std::string> with_defaults = with_bottleneck_defaults(args);
  if (asks_for_gpt2(args)) with_defaults.insert(with_defaults.begin(), {"--steps", "150", "--every", "25"});
  if (!o.parse(with_defaults)) return 0;

  // every check before the output folder is made
  const Device device = device_from(o);
  const TrainData data = train_data_from(o, o.integer("seq-len"));
  const nn::LMConfig cfg = model_config_from(o, data.vocab);
  const nn::TrainConfig tc = train_config_from(o);
  analysis::MonitorOptions mo;
  mo.every = o.integer("every");
  if (mo.every < 1) throw std::runtime_error("option --every: must be >= 1");
  mo.comm = &ranks();  // under mpirun: data parallel, each measurement of the whole batch
  auto model = nn::make_language_model(cfg);
  if (device != Device::CPU) nn::to_device(*model, device);  // built on the CPU (same weights), then moved
  const std::string device_name = device_label(device);
  std::string dir;  // rank 0's: the only one that writes
  checks_on_root([&] { dir = plan_run_dir("bottleneck", o.str("out")); });  // checked; made when the results exist
  const bool root = is_root();

  if (root) {
    std::printf("gradscope bottleneck: %s backbone, %s head (k = %ld), V = %ld, D = %ld, %ld layers, %ld parameters\n",
                nn::backbone_name(cfg.backbone), cfg.head_label().c_str(), static_cast<long>(model->head()->rank()),
                static_cast<long>(cfg.vocab), static_cast<long>(cfg.d_model), static_cast<long>(cfg.n_layer),
                static_cast<long>(model->parameter_count()));
    if (device != Device::CPU) std::printf("device: %s\n", device_name.c_str());
    std::printf("data: %s; %ld steps of %ld x %ld tokens; measuring every %ld steps\n", data.description.c_str(),
                static_cast<long>(tc.steps), static_cast<long>(tc.batch), static_cast<long>(tc.seq_len),
                static_cast<long>(mo.every));
    if (ranks().size() > 1)
      std::printf("data parallel: %d processes, %ld sequences each per step; the leak test on rank 0's share\n",
                  ranks().size(), static_cast<long>(tc.batch / ranks().size()));
    std::printf("a random direction in R^V keeps sqrt(k/V) = %.3f of its norm in a k-dim subspace: destroyed %.3f\n\n",
                std::sqrt(double(model->head()->rank()) / double(cfg.vocab)),
                std::sqrt(1 - double(model->head()->rank()) / double(cfg.vocab)));
    std::fflush(stdout);
  }

  Generator probe_gen(cfg.seed + 1);
  const std::vector<analysis::BottleneckSample> ss = analysis::train_and_watch(model, data, tc, mo, probe_gen);

  // the leak test on the final model and a fresh batch (under mpirun: on rank 0's share)
  analysis::MonitorOptions last = mo;
  last.leak_test = true;
  last.keep_inputs = o.on("dump-final");
  const analysis::BottleneckSample fin = analysis::measure_bottleneck(
      *model, nn::rank_share(data.sample(tc.batch, tc.seq_len, probe_gen), mo.comm), tc.steps, last);

  if (!root) return 0;
  report_bottleneck({.model = cfg,
                     .train = tc,
                     .data = data.description,
                     .device = device_name,
                     .samples = ss,
                     .fin = fin,
                     .dump_final = last.keep_inputs},
                    dir);
  return 0;
}

}  // namespace gs::cli
