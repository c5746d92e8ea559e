// gradscope backbones: the bottleneck does not depend on the backbone. The same head (V, D, k),
// data and budget on each backbone, several seeds each: the destroyed fraction at initialisation
// and after training, the training loss, as mean +- std over seeds in a Markdown table, next to
// sqrt(1 - k/V), what a random direction in R^V loses in a k-dimensional subspace.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "analysis/monitor.h"
#include "demos/cli/commands.h"
#include "demos/cli/device_option.h"
#include "demos/cli/experiment_options.h"
#include "demos/cli/model_options.h"
#include "demos/cli/output.h"
#include "demos/cli/plot.h"
#include "demos/cli/train_data.h"
#include "nn/device.h"
#include "nn/npy.h"

namespace gs::cli {
namespace {

struct Run {
  std::string backbone;
  int64_t seed = 0, rank = 0;
  double init_loss = 0, final_loss = 0, destroyed_init = 0, destroyed_final = 0, update_cosine_final = 0;
  std::vector<analysis::BottleneckSample> samples;
};

std::string pm(const Spread& s, const char* f) { return strf(f, s.mean) + " ± " + strf(f, s.std); }

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
  std::vector<nn::LMConfig> cfgs;
  for (const auto& b : backbones) {
    if (std::count(backbones.begin(), backbones.end(), b) > 1)
      throw std::runtime_error("option --backbones: '" + b + "' is listed twice");
    cfgs.push_back(model_config_from(o, data.vocab, b));
  }
  nn::TrainConfig tc = train_config_from(o);
  tc.log_every = 50;
  analysis::MonitorOptions mo;
  mo.every = o.integer("every");
  mo.keep_inputs = o.on("dump-final");
  const int64_t seeds = o.integer("seeds");
  if (seeds < 1) throw std::runtime_error("option --seeds: must be >= 1");
  if (mo.every < 1) throw std::runtime_error("option --every: must be >= 1");
  for (const auto& c : cfgs) nn::make_language_model(c);  // a bad combination (heads vs D) throws here
  const std::string dir = plan_run_dir("backbones", o.str("out"));  // checked; made when the results exist
  check_output_file("json", o.str("json"), dir);

  const nn::LMConfig& c0 = cfgs.front();
  const int64_t k = c0.head == "factorized" ? c0.rank : c0.d_model;
  const double theory = std::sqrt(std::max(0.0, 1 - double(k) / double(c0.vocab)));
  std::printf("backbones: %s; V = %ld, D = %ld, %s head (k = %ld), %ld layers; %s; %ld seeds x %ld steps of %ld x %ld "
              "tokens -> %s\nsqrt(1 - k/V) = %.4f\n",
              o.str("backbones").c_str(), long(c0.vocab), long(c0.d_model), c0.head.c_str(), long(k),
              long(c0.n_layer), data.description.c_str(), long(seeds), long(tc.steps), long(tc.batch), long(tc.seq_len),
              dir.c_str(), theory);
  std::fflush(stdout);

  std::vector<Run> runs;
  const int64_t total = int64_t(cfgs.size()) * seeds;
  for (nn::LMConfig cfg : cfgs) {
    const uint64_t base = cfg.seed;
    for (int64_t s = 0; s < seeds; ++s) {
      cfg.seed = base + uint64_t(s);
      tc.seed = cfg.seed;
      std::printf("[%ld/%ld] %s seed %ld\n", long(runs.size() + 1), long(total), cfg.backbone.c_str(), long(cfg.seed));
      std::fflush(stdout);
      auto model = nn::make_language_model(cfg);
      if (device != Device::CPU) nn::to_device(*model, device);
      Generator probe_gen(cfg.seed + 1);  // as in `gradscope bottleneck`: the same seed measures the same batches
      Run r;
      r.backbone = cfg.backbone;
      r.seed = int64_t(cfg.seed);
      r.rank = model->head()->rank();
      r.samples = train_and_watch(model, data, tc, mo, probe_gen);
      // only the last measurement's inputs are written: free the others (held during this run only)
      for (size_t i = 0; i + 1 < r.samples.size(); ++i) r.samples[i].inputs = {};
      const auto &first = r.samples.front(), &last = r.samples.back();
      r.init_loss = first.loss;
      r.final_loss = last.loss;
      r.destroyed_init = first.head.destroyed_fraction;
      r.destroyed_final = last.head.destroyed_fraction;
      r.update_cosine_final = last.head.update.cosine;
      std::printf("  destroyed %.4f -> %.4f, loss %.4f -> %.4f\n", r.destroyed_init, r.destroyed_final, r.init_loss,
                  r.final_loss);
      std::fflush(stdout);
      runs.push_back(std::move(r));
    }
  }

  // ---- mean and spread per backbone, the Markdown table ----------------------------------------
  using nlohmann::json;
  json jruns = json::array(), summary = json::array();
  std::ostringstream md, runs_csv, curves_csv;
  md << "| backbone | seeds | destroyed fraction at init | destroyed fraction after " << tc.steps
     << " steps | training loss at init | training loss after " << tc.steps << " steps | update cosine after "
     << tc.steps << " steps | sqrt(1 - k/V) |\n|---|---|---|---|---|---|---|---|\n";
  runs_csv << "backbone,seed,vocab,dim,k,init_loss,final_loss,destroyed_init,destroyed_final,update_cosine_final\n";
  curves_csv << "backbone,seed,step,loss,destroyed_fraction,visible_cosine,update_cosine\n";
  PlotSpec pl;
  pl.title = strf("Destroyed fraction by backbone (mean over %ld seeds), V=%ld, k=%ld, %s", long(seeds), long(c0.vocab),
                  long(k), data.spam ? "SpamLang" : "text");
  pl.xlabel = "training step";
  pl.ylabel = "||G - GQQ^T||_F / ||G||_F";
  for (const auto& b : backbones) {
    std::vector<double> di, df, li, lf, uc;
    std::map<int64_t, std::vector<double>> by_step;
    for (const Run& r : runs) {
      if (r.backbone != b) continue;
      di.push_back(r.destroyed_init), df.push_back(r.destroyed_final);
      li.push_back(r.init_loss), lf.push_back(r.final_loss), uc.push_back(r.update_cosine_final);
      jruns.push_back({{"backbone", r.backbone}, {"seed", r.seed}, {"vocab", c0.vocab}, {"dim", c0.d_model},
                       {"k", r.rank}, {"init_loss", r.init_loss}, {"final_loss", r.final_loss},
                       {"destroyed_init", r.destroyed_init}, {"destroyed_final", r.destroyed_final},
                       {"update_cosine_final", r.update_cosine_final}});
      runs_csv << r.backbone << "," << r.seed << "," << c0.vocab << "," << c0.d_model << "," << r.rank << ","
               << num(r.init_loss) << "," << num(r.final_loss) << "," << num(r.destroyed_init) << ","
               << num(r.destroyed_final) << "," << num(r.update_cosine_final) << "\n";
      for (const auto& s : r.samples) {
        by_step[s.step].push_back(s.head.destroyed_fraction);
        curves_csv << r.backbone << "," << r.seed << "," << s.step << "," << num(s.loss) << ","
                   << num(s.head.destroyed_fraction) << "," << num(s.head.visible_cosine) << ","
                   << num(s.head.update.cosine) << "\n";
      }
    }
    const Spread sdi = spread(di), sdf = spread(df), sli = spread(li), slf = spread(lf), suc = spread(uc);
    summary.push_back({{"backbone", b},
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
    pl.series.push_back(std::move(se));
  }
  {
    Series ref{"random direction: sqrt(1 - k/V)", {0, double(tc.steps)}, {theory, theory}, true};
    pl.series.push_back(std::move(ref));
  }

  json config = {{"backbones", backbones},    {"vocab", c0.vocab},   {"tokenizer", c0.tokenizer}, {"d_model", c0.d_model},
                 {"head", c0.head},           {"k", k},              {"layers", c0.n_layer},
                 {"heads", c0.n_head},        {"data", data.description}, {"seeds", seeds},
                 {"first_seed", cfgs.front().seed}, {"steps", tc.steps}, {"batch", tc.batch},
                 {"seq_len", tc.seq_len},     {"lr", tc.lr},         {"every", mo.every},
                 {"device", device_label(device)},
                 {"optimizer", "adamw, warmup + cosine to lr/10, clip 1"},
                 {"destroyed_final_measured_on", "the batch of the last training step, after its update"}};
  const json run = {{"command", "backbones"}, {"config", config}, {"theory_destroyed", theory},
                    {"runs", jruns},          {"summary", summary}, {"table_markdown", md.str()}};
  OutputFolder folder(dir);  // removed again if a write below fails
  write_file_atomic(dir + "/run.json", run.dump(2) + "\n");
  if (!o.str("json").empty()) write_file_atomic(o.str("json"), run.dump(2) + "\n");
  write_file_atomic(dir + "/runs.csv", runs_csv.str());
  write_file_atomic(dir + "/curves.csv", curves_csv.str());
  write_file_atomic(dir + "/table.md", md.str());
  const bool png = plot(pl, dir + "/destroyed_fraction");
  if (mo.keep_inputs)
    for (const Run& r : runs) {
      const auto& in = r.samples.back().inputs;
      const std::string prefix = dir + "/final_" + r.backbone + "_seed" + std::to_string(r.seed) + "_";
      nn::save_npy(prefix + "H.npy", in.H);
      nn::save_npy(prefix + "W.npy", in.W);
      nn::save_npy(prefix + "targets.npy", in.targets);
    }

  std::printf("\n%s\n(mean ± sample std over seeds; destroyed fraction after training on the batch of the last step)\n",
              md.str().c_str());
  std::printf("wrote %s/run.json, runs.csv, curves.csv, table.md%s%s\n", dir.c_str(), png ? ", destroyed_fraction.png" : "",
              mo.keep_inputs ? ", final_*_{H,W,targets}.npy" : "");
  folder.keep();
  return 0;
}

}  // namespace gs::cli
