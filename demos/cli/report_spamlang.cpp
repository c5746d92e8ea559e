// The spamlang command's report (demos/cli/reports.h): mean and spread over seeds per (V, D),
// the table, run.json, the CSVs and the plots.
#include <cstdio>
#include <map>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "demos/cli/experiment_options.h"
#include "demos/cli/device_option.h"
#include "demos/cli/output.h"
#include "demos/cli/plot.h"
#include "demos/cli/reports.h"

namespace gs::cli {
namespace {

using nlohmann::json;
using analysis::SpamLangConfig;
using analysis::SpamLangResult;

json run_json(const analysis::SpamLangRun& r) {
  return json{{"vocab", r.vocab},           {"dim", r.dim},
              {"seed", r.seed},             {"steps", r.steps},
              {"unseen_symbols", r.unseen_symbols}, {"final_loss", r.final_loss},
              {"accuracy", r.accuracy},     {"destroyed_fraction", r.destroyed_fraction}};
}

// The runs of one (V, D), or one V's controls, over seeds.
struct Cell {
  std::vector<double> acc, loss, destroyed;
  int64_t steps = 0;  // the same for every seed of a (V, D)
  int64_t dim = 0;    // the wide control's width
};
struct Cells {
  std::map<std::pair<int64_t, int64_t>, Cell> lm;  // by (V, D)
  std::map<int64_t, Cell> control, wide;           // by V
};

Cells cells_of(const SpamLangResult& res) {
  Cells cells;
  for (const auto& r : res.runs) {
    Cell& c = cells.lm[{r.vocab, r.dim}];
    c.acc.push_back(r.accuracy);
    c.loss.push_back(r.final_loss);
    c.destroyed.push_back(r.destroyed_fraction);
    c.steps = r.steps;
  }
  for (const auto& r : res.wide) {
    cells.wide[r.vocab].acc.push_back(r.accuracy);
    cells.wide[r.vocab].loss.push_back(r.final_loss);
    cells.wide[r.vocab].destroyed.push_back(r.destroyed_fraction);
    cells.wide[r.vocab].dim = r.dim;
  }
  for (const auto& c : res.controls) {
    cells.control[c.vocab].acc.push_back(c.accuracy);
    cells.control[c.vocab].loss.push_back(c.final_loss);
  }
  return cells;
}

// The table printed at the end, summary.csv and run.json's "summary", row by row together.
struct Summary {
  std::string table, csv;
  json rows = json::array();
};

Summary summarize(const SpamLangConfig& cfg, Cells& cells) {
  Summary s;
  std::ostringstream table, summary_csv;
  table << strf("%8s %6s %8s %6s %17s %15s %17s\n", "V", "D", "V/D", "steps", "accuracy", "held-out loss", "destroyed");
  summary_csv << "vocab,dim,seeds,accuracy_mean,accuracy_std,accuracy_min,accuracy_max,loss_mean,loss_std,"
                 "destroyed_mean,destroyed_std\n";
  for (int64_t V : cfg.vocabs) {
    for (int64_t D : cfg.dims) {
      const Cell& c = cells.lm[{V, D}];
      const Spread a = spread(c.acc), l = spread(c.loss), d = spread(c.destroyed);
      s.rows.push_back({{"vocab", V}, {"dim", D}, {"seeds", c.acc.size()},
                        {"accuracy", {{"mean", a.mean}, {"std", a.std}, {"min", a.min}, {"max", a.max}}},
                        {"final_loss", {{"mean", l.mean}, {"std", l.std}}},
                        {"destroyed_fraction", {{"mean", d.mean}, {"std", d.std}}}});
      table << strf("%8ld %6ld %8.1f %6ld %8.3f +- %5.3f %7.3f +- %5.3f %8.4f +- %6.4f\n", long(V), long(D),
                    double(V) / double(D), long(c.steps), a.mean, a.std, l.mean, l.std, d.mean, d.std);
      summary_csv << V << "," << D << "," << c.acc.size() << "," << num(a.mean) << "," << num(a.std) << ","
                  << num(a.min) << "," << num(a.max) << "," << num(l.mean) << "," << num(l.std) << "," << num(d.mean)
                  << "," << num(d.std) << "\n";
    }
    if (cells.control.count(V)) {
      const Spread a = spread(cells.control[V].acc), l = spread(cells.control[V].loss);
      table << strf("%8ld %6s %8s %6s %8.3f +- %5.3f %7.3f +- %5.3f %17.4f\n", long(V), "table", "-", "", a.mean, a.std,
                    l.mean, l.std, 0.0);
    }
    if (cells.wide.count(V)) {  // same backbone and lr, D >= V
      const Cell& c = cells.wide[V];
      const Spread a = spread(c.acc), l = spread(c.loss), d = spread(c.destroyed);
      table << strf("%8ld %6s %8.1f %6s %8.3f +- %5.3f %7.3f +- %5.3f %8.4f +- %6.4f\n", long(V),
                    strf("=%ld", long(c.dim)).c_str(), double(V) / double(c.dim), "", a.mean, a.std, l.mean, l.std,
                    d.mean, d.std);
    }
  }
  s.table = table.str();
  s.csv = summary_csv.str();
  return s;
}

json curves_json(const SpamLangResult& res) {
  json curves = json::array();
  for (const auto& r : res.runs)
    curves.push_back({{"vocab", r.vocab}, {"dim", r.dim}, {"seed", r.seed}, {"losses", r.losses}});
  for (const auto& c : res.controls)
    curves.push_back({{"vocab", c.vocab}, {"dim", nullptr}, {"seed", c.seed}, {"control", true}, {"losses", c.losses}});
  for (const auto& r : res.wide)
    curves.push_back({{"vocab", r.vocab}, {"dim", r.dim}, {"seed", r.seed}, {"wide_control", true}, {"losses", r.losses}});
  return curves;
}

json spamlang_config_json(const SpamLangConfig& cfg) {
  return {{"vocab", cfg.vocabs},
          {"dim", cfg.dims},
          {"backbone", nn::backbone_name(cfg.model.backbone)},
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
}

void write_csvs(const SpamLangResult& res, const std::string& summary_csv, const std::string& dir) {
  std::ostringstream runs_csv, ctrl_csv, curve_csv;
  runs_csv << "model,vocab,dim,seed,steps,unseen_symbols,final_loss,accuracy,destroyed_fraction,seconds\n";
  for (const auto* list : {&res.runs, &res.wide})
    for (const auto& r : *list)
      runs_csv << (list == &res.wide ? "wide_control," : "lm,") << r.vocab << "," << r.dim << "," << r.seed << ","
               << r.steps << "," << r.unseen_symbols << "," << num(r.final_loss) << "," << num(r.accuracy) << ","
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
  write_file_atomic(dir + "/summary.csv", summary_csv);
  if (!res.controls.empty()) write_file_atomic(dir + "/control.csv", ctrl_csv.str());
  write_file_atomic(dir + "/loss_curves.csv", curve_csv.str());
}

Series loss_series(const std::string& title, const std::vector<double>& losses) {
  Series s{title, {}, {}};
  for (size_t i = 0; i < losses.size(); ++i) {
    s.x.push_back(double(i + 1));
    s.y.push_back(losses[i]);
  }
  return s;
}

// The accuracy heatmap over (V, D) and the loss curves of seed 0 (and the controls). True when
// both PNGs were made.
bool write_plots(const SpamLangConfig& cfg, const SpamLangResult& res, Cells& cells, const std::string& dir) {
  HeatmapSpec hm;
  hm.title = "SpamLang held-out accuracy (mean over seeds), " + std::string(nn::backbone_name(cfg.model.backbone)) +
             " backbone";
  hm.xlabel = "hidden width D";
  hm.ylabel = "vocabulary size V";
  hm.zlabel = "next-token accuracy";
  for (int64_t D : cfg.dims) hm.x.push_back(double(D));
  for (int64_t V : cfg.vocabs) {
    hm.y.push_back(double(V));
    std::vector<double> row;
    for (int64_t D : cfg.dims) row.push_back(spread(cells.lm[{V, D}].acc).mean);
    hm.z.push_back(row);
  }
  bool png = heatmap(hm, dir + "/accuracy_heatmap");
  PlotSpec lc;
  lc.title = "SpamLang training loss (seed 0): LM with head V x D vs the controls";
  lc.xlabel = "step";
  lc.ylabel = "training cross-entropy (nats)";
  lc.logy = true;
  for (const auto* list : {&res.runs, &res.wide})
    for (const auto& r : *list)
      if (r.seed == 0)
        lc.series.push_back(loss_series(
            strf(list == &res.wide ? "wide V=%ld D=%ld" : "V=%ld D=%ld", long(r.vocab), long(r.dim)), r.losses));
  for (const auto& c : res.controls)
    if (c.seed == 0) lc.series.push_back(loss_series(strf("table V=%ld", long(c.vocab)), c.losses));
  png = plot(lc, dir + "/loss_curves") && png;
  return png;
}

}  // namespace

void report_spamlang(const SpamLangConfig& cfg, const SpamLangResult& res, const std::string& dir,
                     const std::string& json_path) {
  json runs = json::array(), controls = json::array(), wide = json::array();
  for (const auto& r : res.runs) runs.push_back(run_json(r));
  for (const auto& r : res.wide) wide.push_back(run_json(r));
  for (const auto& c : res.controls)
    controls.push_back({{"kind", "direct_logit_table"}, {"vocab", c.vocab}, {"seed", c.seed}, {"steps", c.steps},
                        {"final_loss", c.final_loss}, {"accuracy", c.accuracy}});
  Cells cells = cells_of(res);
  const Summary summary = summarize(cfg, cells);
  const json run = {{"command", "spamlang"}, {"config", spamlang_config_json(cfg)}, {"runs", runs},
                    {"control", controls},   {"wide_control", wide},       {"summary", summary.rows},
                    {"loss_curves", curves_json(res)}, {"compute", cpu_compute_json(kFloat32)}};
  OutputFolder folder(dir);  // removed again if a write below fails
  write_file_atomic(dir + "/run.json", run.dump(2) + "\n");
  if (!json_path.empty())
    write_file_atomic(json_path, json({{"runs", runs}, {"control", controls}, {"wide_control", wide}}).dump(2) + "\n");
  write_csvs(res, summary.csv, dir);
  const bool png = write_plots(cfg, res, cells, dir);

  std::printf("\n%s", summary.table.c_str());
  std::printf("(accuracy over all positions of %ld held-out sequences; mean +- std over %ld seed%s; controls: 'table' =\n"
              " a direct logit table, '=D' = the same backbone and lr at width D >= V%s)\n",
              long(cfg.eval_sequences), long(cfg.seeds), cfg.seeds == 1 ? "" : "s",
              cfg.wide_control ? strf(", run for V <= %ld", long(cfg.wide_control_max_vocab)).c_str() : ": skipped");
  std::printf("wrote %s/run.json, runs.csv, summary.csv, loss_curves.csv%s%s\n", dir.c_str(),
              res.controls.empty() ? "" : ", control.csv", png ? ", accuracy_heatmap.png, loss_curves.png" : "");
  folder.keep();
}

}  // namespace gs::cli
