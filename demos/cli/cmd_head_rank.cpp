// gradscope head-rank: PAPER.md claim 4 at small scale. The same backbone with a factorised head
// D -> r -> V for each rank r, the same batches and budget; loss curves and the token-efficiency
// ratio (tokens the highest-rank model needs to reach the lowest-rank model's final loss, over the
// tokens the lowest-rank model used).
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "analysis/experiments.h"
#include "demos/cli/commands.h"
#include "demos/cli/experiment_options.h"
#include "demos/cli/model_options.h"
#include "demos/cli/options.h"
#include "demos/cli/output.h"
#include "demos/cli/plot.h"

namespace gs::cli {

int run_head_rank(const Args& args) {
  Options o("head-rank",
            "Train the same backbone with a factorised head D -> r -> V for each rank r (same data, same budget);\n"
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

  analysis::HeadRankConfig cfg;
  cfg.ranks = int_list(o, "ranks");
  cfg.model.backbone = o.str("backbone");
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
  analysis::check_head_rank_config(cfg);  // before loading data or making the output folder
  std::string data_desc;
  std::shared_ptr<nn::TokenStream> text;
  std::shared_ptr<analysis::SpamLang> spam;
  if (o.on("spamlang")) {
    // one symbol: nothing to predict, G = 0 and every fraction 0/0 (it used to train, then report nan)
    if (o.integer("vocab") < 2) throw std::runtime_error("option --vocab: SpamLang needs V >= 2, got " + o.str("vocab"));
    spam = std::make_shared<analysis::SpamLang>(o.integer("vocab"), cfg.seq_len, o.number("zipf"));
    cfg.model.vocab = spam->vocab();
    cfg.data = [spam, B = cfg.batch](Generator& g) { return spam->sample(B, g); };
    data_desc = strf("SpamLang V=%ld%s", long(spam->vocab()), spam->zipf() > 0 ? strf(" zipf %g", spam->zipf()).c_str() : "");
  } else {
    text = std::make_shared<nn::TokenStream>(load_text_stream(o.str("text"), o.str("tokenizer")));
    cfg.model.tokenizer = o.str("tokenizer");
    if (text->size() < cfg.seq_len + 1) throw std::runtime_error("the text is shorter than --seq-len + 1 tokens");
    cfg.model.vocab = text->vocab_size();
    cfg.data = [text, B = cfg.batch, T = cfg.seq_len](Generator& g) { return text->sample(B, T, g); };
    data_desc = strf("%s (%ld %s tokens)", o.str("text").empty() ? "fortunes corpus" : o.str("text").c_str(),
                     long(text->size()), o.str("tokenizer").c_str());
  }
  cfg.log = [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  const std::string dir = plan_run_dir("head-rank", o.str("out"));  // checked; made when the results exist
  check_output_file("json", o.str("json"), dir);
  std::printf("head-rank: ranks %s, %s backbone D=%ld, %s, %ld steps x %ld tokens -> %s\n", o.str("ranks").c_str(),
              cfg.model.backbone.c_str(), long(cfg.model.d_model), data_desc.c_str(), long(cfg.steps),
              long(cfg.batch * cfg.seq_len), dir.c_str());
  std::fflush(stdout);
  const analysis::HeadRankResult res = analysis::run_head_rank(cfg);

  using nlohmann::json;
  json curves = json::array();
  for (const auto& c : res.curves)
    curves.push_back({{"rank", c.rank},
                      {"final_loss", c.final_loss},
                      {"tokens_to_target", c.tokens_to_target >= 0 ? json(c.tokens_to_target) : json(nullptr)},
                      {"destroyed_fraction", c.destroyed_fraction},
                      {"seconds", c.seconds},
                      {"losses", c.losses},
                      {"smoothed", c.smoothed}});
  json result = {
      {"command", "head-rank"},
      {"config",
       {{"ranks", cfg.ranks},
        {"data", o.on("spamlang") ? "spamlang" : "text"},
        {"text", o.str("text")},
        {"vocab", cfg.model.vocab},
        {"backbone", cfg.model.backbone},
        {"d_model", cfg.model.d_model},
        {"layers", cfg.model.n_layer},
        {"heads", cfg.model.n_head},
        {"steps", cfg.steps},
        {"batch", cfg.batch},
        {"seq_len", cfg.seq_len},
        {"lr", cfg.lr},
        {"warmup", cfg.warmup},
        {"seed", cfg.model.seed},
        {"smoothing", strf("trailing running mean over %ld steps", long(res.window))}}},
      {"tokens_per_step", res.tokens_per_step},
      {"token_efficiency",
       {{"lowest_rank", res.lowest_rank},
        {"highest_rank", res.highest_rank},
        {"target_loss", res.target_loss},
        {"tokens_lowest", res.tokens_lowest},
        {"tokens_highest", res.tokens_highest >= 0 ? json(res.tokens_highest) : json(nullptr)},
        {"ratio", res.ratio},
        {"speedup", res.speedup}}},
      {"curves", curves}};
  const std::string text_json = result.dump(2) + "\n";
  OutputFolder folder(dir);  // removed again if a write below fails
  write_file_atomic(dir + "/run.json", text_json);
  if (!o.str("json").empty()) write_file_atomic(o.str("json"), text_json);

  std::ostringstream curve_csv, eff_csv, table;
  curve_csv << "rank,step,tokens,loss,smoothed\n";
  for (const auto& c : res.curves)
    for (size_t i = 0; i < c.losses.size(); ++i)
      curve_csv << c.rank << "," << i + 1 << "," << (int64_t(i) + 1) * res.tokens_per_step << "," << num(c.losses[i])
                << "," << num(c.smoothed[i]) << "\n";
  eff_csv << "rank,final_loss,tokens_to_target,fraction_of_lowest_rank_tokens,destroyed_fraction\n";
  table << strf("%6s %12s %22s %12s %10s\n", "rank", "final loss", "tokens to reach target", "fraction", "destroyed");
  for (const auto& c : res.curves) {
    const double frac = c.tokens_to_target >= 0 ? double(c.tokens_to_target) / double(res.tokens_lowest) : NAN;
    eff_csv << c.rank << "," << num(c.final_loss) << "," << c.tokens_to_target << "," << num(frac) << ","
            << num(c.destroyed_fraction) << "\n";
    table << strf("%6ld %12.4f %22s %12s %10.4f\n", long(c.rank), c.final_loss,
                  c.tokens_to_target >= 0 ? std::to_string(c.tokens_to_target).c_str() : "not reached",
                  c.tokens_to_target >= 0 ? strf("%.3f", frac).c_str() : "-", c.destroyed_fraction);
  }
  write_file_atomic(dir + "/loss_curves.csv", curve_csv.str());
  write_file_atomic(dir + "/token_efficiency.csv", eff_csv.str());

  PlotSpec lc;
  lc.title = strf("Head rank: training loss (running mean over %ld steps), %s backbone D=%ld", long(res.window),
                  cfg.model.backbone.c_str(), long(cfg.model.d_model));
  lc.xlabel = "training tokens";
  lc.ylabel = "cross-entropy (nats)";
  for (const auto& c : res.curves) {
    Series s{strf("rank %ld", long(c.rank)), {}, {}};
    for (size_t i = 0; i < c.smoothed.size(); ++i) {
      s.x.push_back(double((int64_t(i) + 1) * res.tokens_per_step));
      s.y.push_back(c.smoothed[i]);
    }
    lc.series.push_back(std::move(s));
  }
  {
    Series t{strf("rank %ld final loss", long(res.lowest_rank)), {}, {}};
    t.x = {double(res.tokens_per_step), double(res.tokens_lowest)};
    t.y = {res.target_loss, res.target_loss};
    lc.series.push_back(std::move(t));
  }
  const bool png = plot(lc, dir + "/loss_curves");

  std::printf("\ntarget: rank %ld's final loss %.4f after %ld tokens (running mean over %ld steps)\n%s",
              long(res.lowest_rank), res.target_loss, long(res.tokens_lowest), long(res.window), table.str().c_str());
  if (res.tokens_highest >= 0)
    std::printf("token efficiency: rank %ld reaches it after %ld tokens = %.3f of rank %ld's tokens (%.1fx fewer)\n",
                long(res.highest_rank), long(res.tokens_highest), res.ratio, long(res.lowest_rank), res.speedup);
  else
    std::printf("token efficiency: rank %ld never reaches rank %ld's final loss in this budget\n",
                long(res.highest_rank), long(res.lowest_rank));
  std::printf("wrote %s/run.json, loss_curves.csv, token_efficiency.csv%s\n", dir.c_str(),
              png ? ", loss_curves.png" : "");
  folder.keep();
  return 0;
}

}  // namespace gs::cli
