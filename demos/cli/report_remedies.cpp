// gradscope remedies' report: the table on stdout, run.json (and --json), remedies.csv, a plot.
#include <cmath>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "demos/cli/device_option.h"
#include "demos/cli/experiment_options.h"
#include "demos/cli/output.h"
#include "demos/cli/plot.h"
#include "demos/cli/reports.h"

namespace gs::cli {
namespace {

using nlohmann::json;

json num(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

json heads_json(const std::vector<analysis::RemedyRun>& runs) {
  json heads = json::array();
  for (const auto& r : runs) {
    json acc = json::object();
    for (size_t i = 0; i < r.spamlang_vocab.size(); ++i) acc[std::to_string(r.spamlang_vocab[i])] = num(r.spamlang_accuracy[i]);
    heads.push_back({{"head", r.head},
                     {"head_parameters", r.head_parameters},
                     {"metric", r.metric},
                     {"destroyed_fraction", num(r.destroyed_fraction)},
                     {"linear_destroyed_fraction", num(r.linear_destroyed_fraction)},
                     {"leak_destroyed_max", num(r.leak_destroyed_max)},
                     {"spamlang_accuracy", acc},
                     {"loss", num(r.loss)},
                     {"ms_per_step", num(r.ms_per_step)}});
  }
  return heads;
}

std::string fmt(double x, const char* f) { return std::isfinite(x) ? strf(f, x) : std::string("-"); }

}  // namespace

void report_remedies(const analysis::RemediesConfig& cfg, const std::vector<analysis::RemedyRun>& runs,
                     const std::string& dir, const std::string& json_path) {
  std::ostringstream table, csv;
  table << strf("\n%-12s %9s %-12s %10s %10s %10s", "head", "params", "metric", "destroyed", "linear", "leak max");
  csv << "head,head_parameters,metric,destroyed_fraction,linear_destroyed_fraction,leak_destroyed_max,loss,ms_per_step";
  for (int64_t v : runs.empty() ? std::vector<int64_t>{} : runs.front().spamlang_vocab) {
    table << strf(" %11s", strf("acc V=%ld", long(v)).c_str());
    csv << ",spamlang_accuracy_V" << v;
  }
  table << strf(" %8s %9s\n", "loss", "ms/step");
  csv << "\n";
  for (const auto& r : runs) {
    table << strf("%-12s %9ld %-12s %10.4f %10s %10.2e", r.head.c_str(), long(r.head_parameters), r.metric.c_str(),
                  r.destroyed_fraction, fmt(r.linear_destroyed_fraction, "%.4f").c_str(), r.leak_destroyed_max);
    csv << r.head << "," << r.head_parameters << "," << r.metric << "," << r.destroyed_fraction << ","
        << (std::isfinite(r.linear_destroyed_fraction) ? std::to_string(r.linear_destroyed_fraction) : "") << ","
        << r.leak_destroyed_max << "," << r.loss << "," << r.ms_per_step;
    for (double a : r.spamlang_accuracy) {
      table << strf(" %11.3f", a);
      csv << "," << a;
    }
    table << strf(" %8.4f %9.1f\n", r.loss, r.ms_per_step);
    csv << "\n";
  }
  std::printf("%s", table.str().c_str());
  std::printf("(destroyed: the exact figure, the per-token Jacobian metric for heads that are not linear; linear: the\n"
              " column-space figure, given only for linear heads; leak max: how much of the part of G outside\n"
              " col(head_matrix) still reaches a node below the head: ~0 when that column space is exact, large for\n"
              " a head whose Jacobian moves with the token, whose exact figure is then the Jacobian one)\n");

  const json heads = heads_json(runs);
  const json run = {{"command", "remedies"},
                    {"config",
                     {{"backbone", nn::backbone_name(cfg.model.backbone)},
                      {"d_model", cfg.model.d_model},
                      {"layers", cfg.model.n_layer},
                      {"mixtures", cfg.model.mixtures},
                      {"text_steps", cfg.text_steps},
                      {"batch", cfg.batch},
                      {"seq_len", cfg.seq_len},
                      {"lr", cfg.lr},
                      {"tokenizer", cfg.model.tokenizer},
                      {"spamlang_ratios", cfg.spamlang_ratios},
                      {"spamlang_steps", cfg.spamlang_steps},
                      {"seed", cfg.model.seed}}},
                    {"heads", heads},
                    {"compute", cpu_compute_json(cfg.model.dtype)}};
  OutputFolder folder(dir);  // removed again if a write below fails
  write_file_atomic(dir + "/run.json", run.dump(2) + "\n");
  if (!json_path.empty()) write_file_atomic(json_path, json{{"heads", heads}}.dump(2) + "\n");
  write_file_atomic(dir + "/remedies.csv", csv.str());
  PlotSpec p{"heads compared (x: position in --compare)", "head", "value", false, false, {}, 0, 1.05};
  Series des{"exact destroyed fraction", {}, {}};
  std::vector<Series> acc(runs.empty() ? 0 : runs.front().spamlang_vocab.size());
  for (size_t i = 0; i < acc.size(); ++i) acc[i].title = strf("SpamLang accuracy V=%ld", long(runs.front().spamlang_vocab[i]));
  for (size_t k = 0; k < runs.size(); ++k) {
    des.x.push_back(double(k + 1)), des.y.push_back(runs[k].destroyed_fraction);
    for (size_t i = 0; i < acc.size(); ++i) acc[i].x.push_back(double(k + 1)), acc[i].y.push_back(runs[k].spamlang_accuracy[i]);
  }
  p.series.push_back(des);
  for (auto& s : acc) p.series.push_back(s);
  plot(p, dir + "/remedies");
  folder.keep();
  std::printf("\nresults: %s/ (run.json, remedies.csv, remedies.png)\n", dir.c_str());
}

}  // namespace gs::cli
