// gradscope spamlang: PAPER.md claim 3 at small scale. One model per (V, D, seed) on SpamLang
// (every sequence repeats one symbol) with an identical budget; held-out accuracy, loss and the
// destroyed fraction; two full-rank controls per (V, seed): a direct logit table, and the same
// backbone at D >= V with the same learning rate.
#include <cstdio>
#include <stdexcept>

#include "analysis/experiments.h"
#include "demos/cli/commands.h"
#include "demos/cli/experiment_options.h"
#include "demos/cli/options.h"
#include "demos/cli/output.h"
#include "demos/cli/reports.h"

namespace gs::cli {
namespace {

analysis::SpamLangConfig spamlang_config(const Options& o) {
  analysis::SpamLangConfig cfg;
  cfg.vocabs = int_list(o, "vocab");
  cfg.dims = int_list(o, "dim");
  cfg.model.n_layer = o.integer("layers");
  cfg.model.n_head = o.integer("heads");
  cfg.model.tied = o.on("tied");
  cfg.model.seed = static_cast<uint64_t>(o.integer("seed"));
  cfg.steps = o.integer("steps");
  cfg.batch = o.integer("batch");
  cfg.seq_len = o.integer("seq-len");
  cfg.lr = o.number("lr");
  cfg.warmup = o.integer("warmup");
  cfg.seeds = o.integer("seeds");
  cfg.zipf = o.number("zipf");
  cfg.cover = o.integer("cover");
  cfg.eval_sequences = o.integer("eval-seqs");
  cfg.control = !o.on("no-control");
  cfg.control_lr = o.number("control-lr");
  cfg.wide_control = !o.on("no-wide-control");
  cfg.wide_control_max_vocab = o.integer("wide-control-max");
  if (o.integer("seed") < 0) throw std::runtime_error("option --seed: must be >= 0");
  cfg.model.backbone = nn::parse_backbone(o.str("backbone"));
  cfg.log = [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  return cfg;
}

}  // namespace

int run_spamlang(const Args& args) {
  Options o("spamlang",
            "Train one model per (vocab V, width D, seed) on SpamLang (sequences repeating one symbol) with the same\n"
            "budget; report held-out next-token accuracy (all positions), loss and the head's destroyed fraction,\n"
            "plus a full-rank control: a direct [V, V] logit table (times one learned scale) indexed by the current\n"
            "token, trained on the same steps, batches and schedule with its own --control-lr, and a wide control:\n"
            "the same backbone at D >= V with the same lr, steps and batches (a square head destroys nothing).");
  o.add("vocab", "32,256,2048", "comma-separated vocabulary sizes V")
      .add("dim", "8,32,128", "comma-separated hidden widths D")
      .add("backbone", "transformer", "transformer | gru | ssm")
      .add("layers", "1", "backbone layers")
      .add("heads", "2", "attention heads (transformer; must divide every D)")
      .flag("tied", "tie the head to the input embedding")
      .add("steps", "150", "optimiser steps per model")
      .add("batch", "64", "sequences per step")
      .add("seq-len", "4", "tokens per sequence T")
      .add("lr", "1e-2", "peak learning rate (AdamW, warmup + cosine to lr/10)")
      .add("warmup", "10", "warmup steps")
      .add("seeds", "1", "seeds per (V, D): mean and spread are over these")
      .add("seed", "0", "first seed (initialisation and data)")
      .add("zipf", "0", "Zipf exponent s of the symbol distribution (0: uniform)")
      .add("cover", "0", "K > 0: training symbols in shuffled passes over the vocabulary, and each V trains "
                         "max(steps, ceil(K V / batch)) steps, so every symbol is seen K times (uniform only)")
      .add("eval-seqs", "512", "held-out sequences for accuracy and loss")
      .add("control-lr", "0.1", "peak lr of the control table (AdamW moves each entry ~lr per step, so a table needs more than an LM)")
      .flag("no-control", "skip the direct-logit-table control (it costs V^2 parameters)")
      .add("wide-control-max", "1024", "run the wide control (same backbone and lr at D >= V) for every V up to this")
      .flag("no-wide-control", "skip the wide control")
      .add("json", "", "also write {\"runs\": [...], \"control\": [...]} to this file")
      .add("out", "", "output folder (default ./gradscope-out/spamlang-<timestamp>)");
  if (!o.parse(args)) return 0;

  const analysis::SpamLangConfig cfg = spamlang_config(o);
  analysis::check_spamlang_config(cfg);  // before the output folder is made
  const std::string dir = plan_run_dir("spamlang", o.str("out"));  // checked; made when the results exist
  check_output_file("json", o.str("json"), dir);
  std::printf("spamlang: %zu vocab sizes x %zu widths x %ld seeds, %s backbone, %ld steps%s x %ld sequences x %ld "
              "tokens -> %s\n",
              cfg.vocabs.size(), cfg.dims.size(), long(cfg.seeds), nn::backbone_name(cfg.model.backbone),
              long(cfg.steps), cfg.cover > 0 ? strf(" (or more: every symbol seen %ld times)", long(cfg.cover)).c_str() : "",
              long(cfg.batch), long(cfg.seq_len), dir.c_str());
  std::fflush(stdout);
  const analysis::SpamLangResult res = analysis::run_spamlang(cfg);
  report_spamlang(cfg, res, dir, o.str("json"));
  return 0;
}

}  // namespace gs::cli
