// gradscope head-rank: PAPER.md claim 4 at small scale. The same backbone with a factorized head
// D -> r -> V for each rank r, the same batches and budget; loss curves and the token-efficiency
// ratio (tokens the highest-rank model needs to reach the lowest-rank model's final loss, over the
// tokens the lowest-rank model used). Under `mpirun -np N` every model trains data parallel over
// the processes (the same curves, up to the order of the sums); rank 0 alone prints and writes.
#include <cstdio>
#include <memory>
#include <stdexcept>

#include "analysis/experiments.h"
#include "demos/cli/commands.h"
#include "demos/cli/experiment_options.h"
#include "demos/cli/model_options.h"
#include "demos/cli/options.h"
#include "demos/cli/output.h"
#include "demos/cli/ranks.h"
#include "demos/cli/reports.h"

namespace gs::cli {
namespace {

analysis::HeadRankConfig head_rank_config(const Options& o) {
  analysis::HeadRankConfig cfg;
  cfg.ranks = int_list(o, "ranks");
  cfg.model.d_model = o.integer("d-model");
  cfg.model.n_layer = o.integer("layers");
  cfg.model.n_head = o.integer("heads");
  cfg.model.seed = static_cast<uint64_t>(o.integer("seed"));
  cfg.steps = o.integer("steps");
  cfg.batch = o.integer("batch");
  cfg.seq_len = o.integer("seq-len");
  cfg.model.context = cfg.seq_len;
  cfg.lr = o.number("lr");
  cfg.warmup = o.integer("warmup");
  cfg.smooth = o.integer("smooth");
  cfg.data_seed = cfg.model.seed;
  cfg.model.backbone = nn::parse_backbone(o.str("backbone"));
  cfg.comm = &ranks();  // under mpirun: every model trained data parallel
  if (is_root())        // the other processes of mpirun print nothing
    cfg.log = [](const std::string& line) {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    };
  return cfg;
}

// The data every rank trains on, SpamLang or text, into cfg (vocab, tokenizer, batch source);
// returns its description for the first line.
std::string add_data(const Options& o, analysis::HeadRankConfig& cfg) {
  if (o.on("spamlang")) {
    // one symbol: nothing to predict, G = 0 and every fraction 0/0 (it used to train, then report nan)
    if (o.integer("vocab") < 2) throw std::runtime_error("option --vocab: SpamLang needs V >= 2, got " + o.str("vocab"));
    auto spam = std::make_shared<analysis::SpamLang>(o.integer("vocab"), cfg.seq_len, o.number("zipf"));
    cfg.model.vocab = spam->vocab();
    cfg.data = [spam, B = cfg.batch](Generator& g) { return spam->sample(B, g); };
    return strf("SpamLang V=%ld%s", long(spam->vocab()), spam->zipf() > 0 ? strf(" zipf %g", spam->zipf()).c_str() : "");
  }
  auto text = std::make_shared<nn::TokenStream>(load_text_stream(o.str("text"), o.str("tokenizer")));
  cfg.model.tokenizer = o.str("tokenizer");
  if (text->size() < cfg.seq_len + 1) throw std::runtime_error("the text is shorter than --seq-len + 1 tokens");
  cfg.model.vocab = text->vocab_size();
  cfg.data = [text, B = cfg.batch, T = cfg.seq_len](Generator& g) { return text->sample(B, T, g); };
  return strf("%s (%ld %s tokens)", o.str("text").empty() ? "fortunes corpus" : o.str("text").c_str(),
              long(text->size()), o.str("tokenizer").c_str());
}

}  // namespace

int run_head_rank(const Args& args) {
  Options o("head-rank",
            "Train the same backbone with a factorized head D -> r -> V for each rank r (same data, same budget);\n"
            "plot the loss curves and report the token-efficiency ratio: tokens the highest-rank model needs to\n"
            "reach the lowest-rank model's final loss / tokens the lowest-rank model used (running-mean smoothed).");
  o.add("ranks", "4,16,64", "comma-separated head ranks r (each 1..D)")
      .add("text", "", "training text file (default: Debian's fortunes corpus); ids from --tokenizer")
      .flag("spamlang", "train on SpamLang instead of text")
      .add("vocab", "1024", "SpamLang vocabulary size (with --spamlang)")
      .add("zipf", "0", "SpamLang Zipf exponent (with --spamlang; 0: uniform)")
      .add("backbone", "transformer", "transformer | gru | ssm")
      .add("d-model", "64", "hidden width D")
      .add("layers", "1", "backbone layers")
      .add("heads", "4", "attention heads (transformer)")
      .add("steps", "200", "optimiser steps per model")
      .add("batch", "16", "sequences per step")
      .add("seq-len", "32", "tokens per sequence")
      .add("lr", "3e-3", "peak learning rate (AdamW, warmup + cosine to lr/10)")
      .add("warmup", "10", "warmup steps")
      .add("smooth", "0", "running-mean window in steps for the token-efficiency ratio (0: steps / 10)")
      .add("seed", "0", "seed for initialisation and data (every rank sees the same batches)")
      .add("json", "", "also write the result JSON to this file")
      .add("out", "", "output folder (default ./gradscope-out/head-rank-<timestamp>)");
  add_tokenizer_option(o);
  if (!o.parse(args)) return 0;
  if (o.on("spamlang") && !o.str("text").empty()) throw std::runtime_error("--text and --spamlang exclude each other");
  check_tokenizer_not_with_spamlang(o);
  if (o.integer("seed") < 0) throw std::runtime_error("option --seed: must be >= 0");

  analysis::HeadRankConfig cfg = head_rank_config(o);
  // before loading data or making the output folder (also: --batch splits over mpirun's processes)
  analysis::check_head_rank_config(cfg);
  const std::string data_desc = add_data(o, cfg);
  std::string dir;  // rank 0's: the only one that writes
  checks_on_root([&] {
    dir = plan_run_dir("head-rank", o.str("out"));  // checked; made when the results exist
    check_output_file("json", o.str("json"), dir);
  });
  if (is_root())
    std::printf("head-rank: ranks %s, %s backbone D=%ld, %s, %ld steps x %ld tokens -> %s\n", o.str("ranks").c_str(),
                nn::backbone_name(cfg.model.backbone), long(cfg.model.d_model), data_desc.c_str(), long(cfg.steps),
                long(cfg.batch * cfg.seq_len), dir.c_str());
  std::fflush(stdout);
  const analysis::HeadRankResult res = analysis::run_head_rank(cfg);
  if (is_root()) report_head_rank(cfg, res, o.on("spamlang") ? "spamlang" : "text", o.str("text"), dir, o.str("json"));
  return 0;
}

}  // namespace gs::cli
