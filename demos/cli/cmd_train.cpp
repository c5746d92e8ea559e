// gradscope train: trains a language model on a text file (byte-level, V = 256) or the default
// corpus (Debian's fortunes), with periodic checkpoints and --resume. Under `mpirun -np N` the
// ranks train one model together (nn/trainer.h, data parallelism); rank 0 alone prints and writes.
#include <cstdio>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "demos/cli/commands.h"
#include "demos/cli/device_option.h"
#include "demos/cli/options.h"
#include "demos/cli/output.h"
#include "demos/cli/model_options.h"
#include "nn/device.h"
#include "nn/trainer.h"

namespace gs::cli {

int run_train(const Args& args) {
  Options o("train", "Train a language model (byte or GPT-2 tokens); checkpoints are safetensors files.");
  add_model_options(o);
  o.add("text", "", "training text file (default: Debian's fortunes corpus)")
      .add("steps", "300", "optimiser steps")
      .add("batch", "16", "sequences per step")
      .add("lr", "3e-3", "peak learning rate (AdamW, warmup + cosine)")
      .add("checkpoint", "", "checkpoint path (written atomically every --save-every steps and at the end)")
      .add("save-every", "100", "steps between checkpoints (>= 1; the last step always saves)")
      .flag("resume", "continue from --checkpoint (the run's settings and text must be the checkpoint's)")
      .add("json", "", "write {\"world_size\", \"steps\": [{\"step\", \"loss\", \"tokens_per_s\"}]} to this file")
      .flag("allow-run-change", "with --resume: go on although --steps, --batch, --lr or the text differ from the "
                                "run that wrote the checkpoint (printed); another model (--d-model, --seq-len, "
                                "--seed, ...) is always refused");
  add_tokenizer_option(o);
  add_device_option(o);
  if (!o.parse(args)) return 0;
  // every option and the checkpoint's place checked before the text is read or a model built
  const Device device = device_from(o);
  nn::TrainConfig tc;
  tc.steps = o.integer("steps");
  tc.batch = o.integer("batch");
  tc.seq_len = o.integer("seq-len");
  tc.lr = o.number("lr");
  tc.seed = static_cast<uint64_t>(o.integer("seed"));
  tc.checkpoint_path = o.str("checkpoint");
  tc.checkpoint_every = o.integer("save-every");
  if (o.on("resume") && tc.checkpoint_path.empty()) throw Error("--resume needs --checkpoint");
  if (o.on("allow-run-change") && !o.on("resume")) throw Error("--allow-run-change goes with --resume");
  if (!(tc.lr > 0)) throw std::runtime_error("option --lr: must be > 0, got " + o.str("lr"));
  if (tc.steps < 0) throw std::runtime_error("option --steps: must be >= 0, got " + std::to_string(tc.steps));
  if (tc.batch < 1) throw std::runtime_error("option --batch: must be >= 1, got " + std::to_string(tc.batch));
  // 0 or a negative interval used to switch periodic saves off without a word
  if (tc.checkpoint_every < 1)
    throw std::runtime_error("option --save-every: must be >= 1, got " + std::to_string(tc.checkpoint_every));
  check_output_file("checkpoint", tc.checkpoint_path);  // not at the first save, steps later
  check_output_file("json", o.str("json"));
  nn::TokenStream data = load_text_stream(o.str("text"), o.str("tokenizer"));
  const int64_t n_tokens = data.size();
  auto model = nn::make_language_model(model_config_from(o, data.vocab_size()));
  if (device != Device::CPU) nn::to_device(*model, device);  // built on the CPU, then moved
  nn::Trainer trainer(model, std::move(data), tc);
  if (o.on("resume")) {
    nn::Trainer::ResumePolicy policy;
    policy.allow_run_changes = o.on("allow-run-change");
    policy.how_to_allow = "pass --allow-run-change";
    for (const auto& change : trainer.resume(tc.checkpoint_path, policy))
      std::fprintf(stderr, "train --resume: %s\n", change.c_str());
  }
  const bool root = trainer.is_root();
  if (root) {
    std::printf("model: %s backbone, %s head, %ld parameters; %ld tokens of text\n",
                nn::backbone_name(model->config().backbone), model->config().head_label().c_str(),
                static_cast<long>(model->parameter_count()), static_cast<long>(n_tokens));
    if (trainer.world_size() > 1)
      std::printf("data parallel: %d processes, %ld sequences each per step\n", trainer.world_size(),
                  static_cast<long>(tc.batch / trainer.world_size()));
    if (device == Device::CUDA) std::printf("device: %s\n", device_label(device).c_str());
    if (trainer.step() > 0) std::printf("resumed at step %ld\n", static_cast<long>(trainer.step()));
    std::fflush(stdout);  // before the progress lines on stderr
  }
  nlohmann::json steps = nlohmann::json::array();
  const auto losses = trainer.run([&](const nn::StepInfo& s) {
    steps.push_back({{"step", s.step}, {"loss", s.loss}, {"tokens_per_s", s.tokens_per_s}});
  });
  if (!root) return 0;
  if (!losses.empty()) std::printf("final loss %.4f after %ld steps\n", losses.back(), static_cast<long>(trainer.step()));
  if (!tc.checkpoint_path.empty()) std::printf("checkpoint: %s\n", tc.checkpoint_path.c_str());
  if (!o.str("json").empty()) {
    write_file_atomic(o.str("json"), nlohmann::json{{"world_size", trainer.world_size()}, {"steps", steps}}.dump(2) + "\n");
    std::printf("json: %s\n", o.str("json").c_str());
  }
  return 0;
}

}  // namespace gs::cli
