// gradscope spamlang: PAPER.md claim 3 at small scale. One model per (V, D, seed) on SpamLang
// (every sequence repeats one symbol) with an identical budget; held-out accuracy, loss and the
// destroyed fraction; two full-rank controls per (V, seed): a direct logit table, and the same
// backbone at D >= V with the same learning rate.
#include <cstdio>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "analysis/experiments.h"
#include "demos/cli/commands.h"
#include "demos/cli/experiment_options.h"
#include "demos/cli/options.h"
#include "demos/cli/output.h"
#include "demos/cli/plot.h"

namespace gs::cli {

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

  analysis::SpamLangConfig cfg;
  cfg.vocabs = int_list(o, "vocab");
  cfg.dims = int_list(o, "dim");
  cfg.model.backbone = o.str("backbone");
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
  analysis::check_spamlang_config(cfg);  // before the output folder is made
  cfg.log = [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  const std::string dir = plan_run_dir("spamlang", o.str("out"));  // checked; made when the results exist
  check_output_file("json", o.str("json"), dir);
  std::printf("spamlang: %zu vocab sizes x %zu widths x %ld seeds, %s backbone, %ld steps%s x %ld sequences x %ld "
              "tokens -> %s\n",
              cfg.vocabs.size(), cfg.dims.size(), long(cfg.seeds), cfg.model.backbone.c_str(), long(cfg.steps),
              cfg.cover > 0 ? strf(" (or more: every symbol seen %ld times)", long(cfg.cover)).c_str() : "",
              long(cfg.batch), long(cfg.seq_len), dir.c_str());
  std::fflush(stdout);
  const analysis::SpamLangResult res = analysis::run_spamlang(cfg);

  // ---- JSON -------------------------------------------------------------------------------------
  using nlohmann::json;
  json runs = json::array(), controls = json::array(), wide = json::array(), curves = json::array(),
       summary = json::array();
  auto run_json = [](const analysis::SpamLangRun& r) {
    return json{{"vocab", r.vocab},           {"dim", r.dim},
                {"seed", r.seed},             {"steps", r.steps},
                {"unseen_symbols", r.unseen_symbols}, {"final_loss", r.final_loss},
                {"accuracy", r.accuracy},     {"destroyed_fraction", r.destroyed_fraction}};
  };
  for (const auto& r : res.runs) runs.push_back(run_json(r));
  for (const auto& r : res.wide) wide.push_back(run_json(r));
  for (const auto& c : res.controls)
    controls.push_back({{"kind", "direct_logit_table"}, {"vocab", c.vocab}, {"seed", c.seed}, {"steps", c.steps},
                        {"final_loss", c.final_loss}, {"accuracy", c.accuracy}});
  // mean and spread over seeds per (V, D)
  struct Cell {
    std::vector<double> acc, loss, destroyed;
    int64_t steps = 0;  // the same for every seed of a (V, D)
    int64_t dim = 0;    // the wide control's width
  };
  std::map<std::pair<int64_t, int64_t>, Cell> cells;
  for (const auto& r : res.runs) {
    Cell& c = cells[{r.vocab, r.dim}];
    c.acc.push_back(r.accuracy);
    c.loss.push_back(r.final_loss);
    c.destroyed.push_back(r.destroyed_fraction);
    c.steps = r.steps;
  }
  std::map<int64_t, Cell> control_cells, wide_cells;
  for (const auto& r : res.wide) {
    wide_cells[r.vocab].acc.push_back(r.accuracy);
    wide_cells[r.vocab].loss.push_back(r.final_loss);
    wide_cells[r.vocab].destroyed.push_back(r.destroyed_fraction);
    wide_cells[r.vocab].dim = r.dim;
  }
  for (const auto& c : res.controls) {
    control_cells[c.vocab].acc.push_back(c.accuracy);
    control_cells[c.vocab].loss.push_back(c.final_loss);
  }
  std::ostringstream table;
  table << strf("%8s %6s %8s %6s %17s %15s %17s\n", "V", "D", "V/D", "steps", "accuracy", "held-out loss", "destroyed");
  std::ostringstream summary_csv;
  summary_csv << "vocab,dim,seeds,accuracy_mean,accuracy_std,accuracy_min,accuracy_max,loss_mean,loss_std,"
                 "destroyed_mean,destroyed_std\n";
  for (int64_t V : cfg.vocabs) {
    for (int64_t D : cfg.dims) {
      const Cell& c = cells[{V, D}];
      const Spread a = spread(c.acc), l = spread(c.loss), d = spread(c.destroyed);
      summary.push_back({{"vocab", V}, {"dim", D}, {"seeds", c.acc.size()},
                         {"accuracy", {{"mean", a.mean}, {"std", a.std}, {"min", a.min}, {"max", a.max}}},
                         {"final_loss", {{"mean", l.mean}, {"std", l.std}}},
                         {"destroyed_fraction", {{"mean", d.mean}, {"std", d.std}}}});
      table << strf("%8ld %6ld %8.1f %6ld %8.3f +- %5.3f %7.3f +- %5.3f %8.4f +- %6.4f\n", long(V), long(D),
                    double(V) / double(D), long(c.steps), a.mean, a.std, l.mean, l.std, d.mean, d.std);
      summary_csv << V << "," << D << "," << c.acc.size() << "," << num(a.mean) << "," << num(a.std) << ","
                  << num(a.min) << "," << num(a.max) << "," << num(l.mean) << "," << num(l.std) << "," << num(d.mean)
                  << "," << num(d.std) << "\n";
    }
    if (control_cells.count(V)) {
      const Spread a = spread(control_cells[V].acc), l = spread(control_cells[V].loss);
      table << strf("%8ld %6s %8s %6s %8.3f +- %5.3f %7.3f +- %5.3f %17.4f\n", long(V), "table", "-", "", a.mean, a.std,
                    l.mean, l.std, 0.0);
    }
    if (wide_cells.count(V)) {  // same backbone and lr, D >= V
      const Cell& c = wide_cells[V];
      const Spread a = spread(c.acc), l = spread(c.loss), d = spread(c.destroyed);
      table << strf("%8ld %6s %8.1f %6s %8.3f +- %5.3f %7.3f +- %5.3f %8.4f +- %6.4f\n", long(V),
                    strf("=%ld", long(c.dim)).c_str(), double(V) / double(c.dim), "", a.mean, a.std, l.mean, l.std,
                    d.mean, d.std);
    }
  }
  for (const auto& r : res.runs)
    curves.push_back({{"vocab", r.vocab}, {"dim", r.dim}, {"seed", r.seed}, {"losses", r.losses}});
  for (const auto& c : res.controls)
    curves.push_back({{"vocab", c.vocab}, {"dim", nullptr}, {"seed", c.seed}, {"control", true}, {"losses", c.losses}});
  for (const auto& r : res.wide)
    curves.push_back({{"vocab", r.vocab}, {"dim", r.dim}, {"seed", r.seed}, {"wide_control", true}, {"losses", r.losses}});

  json config = {{"vocab", cfg.vocabs},
                 {"dim", cfg.dims},
                 {"backbone", cfg.model.backbone},
                 {"layers", cfg.model.n_layer},
                 {"heads", cfg.model.n_head},
                 {"tied", cfg.model.tied},
                 {"steps", cfg.steps},
                 {"batch", cfg.batch},
                 {"seq_len", cfg.seq_len},
                 {"lr", cfg.lr},
                 {"warmup", cfg.warmup},
                 {"seeds", cfg.seeds},
                 {"seed", cfg.model.seed},
                 {"zipf", cfg.zipf},
                 {"cover", cfg.cover},
                 {"eval_sequences", cfg.eval_sequences},
                 {"accuracy_positions", "all"},
                 {"control", cfg.control ? "direct_logit_table" : "none"},
                 {"control_lr", cfg.control_lr},
                 {"wide_control_max_vocab", cfg.wide_control ? json(cfg.wide_control_max_vocab) : json(nullptr)},
                 {"optimizer", "adamw, warmup + cosine to lr/10, clip 1"}};
  json run = {{"command", "spamlang"}, {"config", config},   {"runs", runs},         {"control", controls},
              {"wide_control", wide},  {"summary", summary}, {"loss_curves", curves}};
  OutputFolder folder(dir);  // removed again if a write below fails
  write_file_atomic(dir + "/run.json", run.dump(2) + "\n");
  if (!o.str("json").empty())
    write_file_atomic(o.str("json"), json({{"runs", runs}, {"control", controls}, {"wide_control", wide}}).dump(2) + "\n");

  // ---- CSVs -------------------------------------------------------------------------------------
  std::ostringstream runs_csv, ctrl_csv, curve_csv;
  runs_csv << "model,vocab,dim,seed,steps,unseen_symbols,final_loss,accuracy,destroyed_fraction,seconds\n";
  for (const auto* list : {&res.runs, &res.wide})
    for (const auto& r : *list)
      runs_csv << (list == &res.wide ? "wide_control," : "lm,") << r.vocab << "," << r.dim << "," << r.seed << "," << r.steps << "," << r.unseen_symbols << ","
             << num(r.final_loss) << "," << num(r.accuracy) << ","
             << num(r.destroyed_fraction) << "," << num(r.seconds) << "\n";
  ctrl_csv << "vocab,seed,final_loss,accuracy,seconds\n";
  for (const auto& c : res.controls)
    ctrl_csv << c.vocab << "," << c.seed << "," << num(c.final_loss) << "," << num(c.accuracy) << ","
             << num(c.seconds) << "\n";
  curve_csv << "model,vocab,dim,seed,step,loss\n";
  for (const auto& r : res.runs)
    for (size_t i = 0; i < r.losses.size(); ++i)
      curve_csv << "lm," << r.vocab << "," << r.dim << "," << r.seed << "," << i + 1 << "," << num(r.losses[i]) << "\n";
  for (const auto& c : res.controls)
    for (size_t i = 0; i < c.losses.size(); ++i)
      curve_csv << "table," << c.vocab << ",," << c.seed << "," << i + 1 << "," << num(c.losses[i]) << "\n";
  write_file_atomic(dir + "/runs.csv", runs_csv.str());
  write_file_atomic(dir + "/summary.csv", summary_csv.str());
  if (!res.controls.empty()) write_file_atomic(dir + "/control.csv", ctrl_csv.str());
  write_file_atomic(dir + "/loss_curves.csv", curve_csv.str());

  // ---- plots: accuracy heatmap over (V, D), loss curves (seed 0, and the controls) -------------
  HeatmapSpec hm;
  hm.title = "SpamLang held-out accuracy (mean over seeds), " + cfg.model.backbone + " backbone";
  hm.xlabel = "hidden width D";
  hm.ylabel = "vocabulary size V";
  hm.zlabel = "next-token accuracy";
  for (int64_t D : cfg.dims) hm.x.push_back(double(D));
  for (int64_t V : cfg.vocabs) {
    hm.y.push_back(double(V));
    std::vector<double> row;
    for (int64_t D : cfg.dims) row.push_back(spread(cells[{V, D}].acc).mean);
    hm.z.push_back(row);
  }
  bool png = heatmap(hm, dir + "/accuracy_heatmap");
  PlotSpec lc;
  lc.title = "SpamLang training loss (seed 0): LM with head V x D vs the controls";
  lc.xlabel = "step";
  lc.ylabel = "training cross-entropy (nats)";
  lc.logy = true;
  for (const auto* list : {&res.runs, &res.wide})
    for (const auto& r : *list) {
      if (r.seed != 0) continue;
      Series s{strf(list == &res.wide ? "wide V=%ld D=%ld" : "V=%ld D=%ld", long(r.vocab), long(r.dim)), {}, {}};
    for (size_t i = 0; i < r.losses.size(); ++i) {
      s.x.push_back(double(i + 1));
      s.y.push_back(r.losses[i]);
    }
    lc.series.push_back(std::move(s));
    }
  for (const auto& c : res.controls) {
    if (c.seed != 0) continue;
    Series s{strf("table V=%ld", long(c.vocab)), {}, {}};
    for (size_t i = 0; i < c.losses.size(); ++i) {
      s.x.push_back(double(i + 1));
      s.y.push_back(c.losses[i]);
    }
    lc.series.push_back(std::move(s));
  }
  png = plot(lc, dir + "/loss_curves") && png;

  std::printf("\n%s", table.str().c_str());
  std::printf("(accuracy over all positions of %ld held-out sequences; mean +- std over %ld seed%s; controls: 'table' =\n"
              " a direct logit table, '=D' = the same backbone and lr at width D >= V%s)\n",
              long(cfg.eval_sequences), long(cfg.seeds), cfg.seeds == 1 ? "" : "s",
              cfg.wide_control ? strf(", run for V <= %ld", long(cfg.wide_control_max_vocab)).c_str() : ": skipped");
  std::printf("wrote %s/run.json, runs.csv, summary.csv, loss_curves.csv%s%s\n", dir.c_str(),
              res.controls.empty() ? "" : ", control.csv", png ? ", accuracy_heatmap.png, loss_curves.png" : "");
  folder.keep();
  return 0;
}

}  // namespace gs::cli
