// The backbones command's report (demos/cli/reports.h): mean and spread per backbone, the
// Markdown table, run.json, the CSVs, the plot and the optional .npy inputs.
#include <cstdio>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "demos/cli/experiment_options.h"
#include "demos/cli/device_option.h"
#include "demos/cli/output.h"
#include "demos/cli/plot.h"
#include "demos/cli/reports.h"
#include "nn/npy.h"

namespace gs::cli {
namespace {

using nlohmann::json;
using analysis::BackboneRun;
using analysis::BackbonesConfig;

std::string pm(const Spread& s, const char* f) { return strf(f, s.mean) + " ± " + strf(f, s.std); }

// Everything computed per backbone, in the order of cfg.models: the table, the CSVs, the JSON
// rows and the plot's series.
struct Tables {
  json runs = json::array(), summary = json::array();
  std::string md, runs_csv, curves_csv;
  PlotSpec plot;
};

Tables tabulate(const BackbonesConfig& cfg, const std::vector<BackboneRun>& runs, double theory) {
  const nn::LMConfig& c0 = cfg.models.front();
  const int64_t steps = cfg.train.steps;
  Tables t;
  std::ostringstream md, runs_csv, curves_csv;
  md << "| backbone | seeds | destroyed fraction at init | destroyed fraction after " << steps
     << " steps | training loss at init | training loss after " << steps << " steps | update cosine after "
     << steps << " steps | sqrt(1 - k/V) |\n|---|---|---|---|---|---|---|---|\n";
  runs_csv << "backbone,seed,vocab,dim,k,init_loss,final_loss,destroyed_init,destroyed_final,update_cosine_final\n";
  curves_csv << "backbone,seed,step,loss,destroyed_fraction,visible_cosine,update_cosine\n";
  t.plot.title = strf("Destroyed fraction by backbone (mean over %ld seeds), V=%ld, k=%ld, %s", long(cfg.seeds),
                      long(c0.vocab), long(c0.head_rank()), cfg.data.spam ? "SpamLang" : "text");
  t.plot.xlabel = "training step";
  t.plot.ylabel = "||G - GQQ^T||_F / ||G||_F";
  for (const nn::LMConfig& m : cfg.models) {
    const std::string b = nn::backbone_name(m.backbone);
    std::vector<double> di, df, li, lf, uc;
    std::map<int64_t, std::vector<double>> by_step;
    for (const BackboneRun& r : runs) {
      if (r.backbone != m.backbone) continue;
      di.push_back(r.destroyed_init), df.push_back(r.destroyed_final);
      li.push_back(r.init_loss), lf.push_back(r.final_loss), uc.push_back(r.update_cosine_final);
      t.runs.push_back({{"backbone", b}, {"seed", r.seed}, {"vocab", c0.vocab}, {"dim", c0.d_model},
                        {"k", r.rank}, {"init_loss", r.init_loss}, {"final_loss", r.final_loss},
                        {"destroyed_init", r.destroyed_init}, {"destroyed_final", r.destroyed_final},
                        {"update_cosine_final", r.update_cosine_final}});
      runs_csv << b << "," << r.seed << "," << c0.vocab << "," << c0.d_model << "," << r.rank << ","
               << num(r.init_loss) << "," << num(r.final_loss) << "," << num(r.destroyed_init) << ","
               << num(r.destroyed_final) << "," << num(r.update_cosine_final) << "\n";
      for (const auto& s : r.samples) {
        by_step[s.step].push_back(s.head.destroyed_fraction);
        curves_csv << b << "," << r.seed << "," << s.step << "," << num(s.loss) << ","
                   << num(s.head.destroyed_fraction) << "," << num(s.head.visible_cosine) << ","
                   << num(s.head.update.cosine) << "\n";
      }
    }
    const Spread sdi = spread(di), sdf = spread(df), sli = spread(li), slf = spread(lf), suc = spread(uc);
    t.summary.push_back({{"backbone", b},
                         {"seeds", di.size()},
                         {"destroyed_init", {{"mean", sdi.mean}, {"std", sdi.std}}},
                         {"destroyed_final", {{"mean", sdf.mean}, {"std", sdf.std}}},
                         {"init_loss", {{"mean", sli.mean}, {"std", sli.std}}},
                         {"final_loss", {{"mean", slf.mean}, {"std", slf.std}}},
                         {"update_cosine_final", {{"mean", suc.mean}, {"std", suc.std}}}});
    md << "| " << b << " | " << di.size() << " | " << pm(sdi, "%.4f") << " | " << pm(sdf, "%.4f") << " | "
       << pm(sli, "%.3f") << " | " << pm(slf, "%.3f") << " | " << pm(suc, "%.3f") << " | " << strf("%.4f", theory)
       << " |\n";
    Series se{b, {}, {}};
    for (const auto& [step, v] : by_step) se.x.push_back(double(step)), se.y.push_back(spread(v).mean);
    t.plot.series.push_back(std::move(se));
  }
  t.plot.series.push_back(Series{"random direction: sqrt(1 - k/V)", {0, double(steps)}, {theory, theory}, true});
  t.md = md.str();
  t.runs_csv = runs_csv.str();
  t.curves_csv = curves_csv.str();
  return t;
}

json backbones_config_json(const BackbonesConfig& cfg, const std::string& data, const std::string& device) {
  const nn::LMConfig& c0 = cfg.models.front();
  const nn::TrainConfig& tc = cfg.train;
  std::vector<std::string> backbones;
  for (const nn::LMConfig& m : cfg.models) backbones.push_back(nn::backbone_name(m.backbone));
  return {{"backbones", backbones},    {"vocab", c0.vocab},   {"tokenizer", c0.tokenizer}, {"d_model", c0.d_model},
          {"head", c0.head_label()}, {"k", c0.head_rank()}, {"layers", c0.n_layer},
          {"heads", c0.n_head},        {"data", data},        {"seeds", cfg.seeds},
          {"first_seed", c0.seed},     {"steps", tc.steps},   {"batch", tc.batch},
          {"seq_len", tc.seq_len},     {"lr", tc.lr},         {"every", cfg.monitor.every},
          {"device", device},
          {"optimizer", "adamw, warmup + cosine to lr/10, clip 1"},
          {"destroyed_final_measured_on", "the batch of the last training step, after its update"}};
}

}  // namespace

void report_backbones(const BackbonesConfig& cfg, const std::vector<BackboneRun>& runs, const std::string& data,
                      const std::string& device, const std::string& dir, const std::string& json_path) {
  const nn::LMConfig& c0 = cfg.models.front();
  const double theory = analysis::random_direction_destroyed(c0.head_rank(), c0.vocab);
  const Tables t = tabulate(cfg, runs, theory);
  const json run = {{"command", "backbones"}, {"config", backbones_config_json(cfg, data, device)},
                    {"theory_destroyed", theory}, {"runs", t.runs}, {"summary", t.summary},
                    {"table_markdown", t.md}, {"compute", cpu_compute_json(c0.dtype)}};
  OutputFolder folder(dir);  // removed again if a write below fails
  write_file_atomic(dir + "/run.json", run.dump(2) + "\n");
  if (!json_path.empty()) write_file_atomic(json_path, run.dump(2) + "\n");
  write_file_atomic(dir + "/runs.csv", t.runs_csv);
  write_file_atomic(dir + "/curves.csv", t.curves_csv);
  write_file_atomic(dir + "/table.md", t.md);
  const bool png = plot(t.plot, dir + "/destroyed_fraction");
  const bool dump = cfg.monitor.keep_inputs;
  if (dump)
    for (const BackboneRun& r : runs) {
      const auto& in = r.samples.back().inputs;
      const std::string prefix =
          dir + "/final_" + nn::backbone_name(r.backbone) + "_seed" + std::to_string(r.seed) + "_";
      nn::save_npy(prefix + "H.npy", in.H);
      nn::save_npy(prefix + "W.npy", in.W);
      nn::save_npy(prefix + "targets.npy", in.targets);
    }

  std::printf("\n%s\n(mean ± sample std over seeds; destroyed fraction after training on the batch of the last step)\n",
              t.md.c_str());
  std::printf("wrote %s/run.json, runs.csv, curves.csv, table.md%s%s\n", dir.c_str(), png ? ", destroyed_fraction.png" : "",
              dump ? ", final_*_{H,W,targets}.npy" : "");
  folder.keep();
}

}  // namespace gs::cli
