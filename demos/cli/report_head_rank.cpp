// The head-rank command's report (demos/cli/reports.h): run.json, the loss curves and the
// token-efficiency table.
#include <cmath>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "demos/cli/experiment_options.h"
#include "demos/cli/device_option.h"
#include "demos/cli/output.h"
#include "demos/cli/plot.h"
#include "demos/cli/reports.h"

namespace gs::cli {
namespace {

using nlohmann::json;
using analysis::HeadRankConfig;
using analysis::HeadRankResult;

json head_rank_json(const HeadRankConfig& cfg, const HeadRankResult& res, const std::string& data,
                    const std::string& text) {
  json curves = json::array();
  for (const auto& c : res.curves)
    curves.push_back({{"rank", c.rank},
                      {"final_loss", c.final_loss},
                      {"tokens_to_target", c.tokens_to_target >= 0 ? json(c.tokens_to_target) : json(nullptr)},
                      {"destroyed_fraction", c.destroyed_fraction},
                      {"seconds", c.seconds},
                      {"losses", c.losses},
                      {"smoothed", c.smoothed}});
  return {
      {"command", "head-rank"},
      {"config",
       {{"ranks", cfg.ranks},
        {"data", data},
        {"text", text},
        {"vocab", cfg.model.vocab},
        {"backbone", nn::backbone_name(cfg.model.backbone)},
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
      {"curves", curves},
      {"compute", cpu_compute_json(cfg.model.dtype)}};
}

// loss_curves.csv and token_efficiency.csv; returns the table printed at the end.
std::string write_csvs(const HeadRankResult& res, const std::string& dir) {
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
  return table.str();
}

bool write_plot(const HeadRankConfig& cfg, const HeadRankResult& res, const std::string& dir) {
  PlotSpec lc;
  lc.title = strf("Head rank: training loss (running mean over %ld steps), %s backbone D=%ld", long(res.window),
                  nn::backbone_name(cfg.model.backbone), long(cfg.model.d_model));
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
  Series t{strf("rank %ld final loss", long(res.lowest_rank)), {}, {}};
  t.x = {double(res.tokens_per_step), double(res.tokens_lowest)};
  t.y = {res.target_loss, res.target_loss};
  lc.series.push_back(std::move(t));
  return plot(lc, dir + "/loss_curves");
}

}  // namespace

void report_head_rank(const HeadRankConfig& cfg, const HeadRankResult& res, const std::string& data,
                      const std::string& text, const std::string& dir, const std::string& json_path) {
  const std::string text_json = head_rank_json(cfg, res, data, text).dump(2) + "\n";
  OutputFolder folder(dir);  // removed again if a write below fails
  write_file_atomic(dir + "/run.json", text_json);
  if (!json_path.empty()) write_file_atomic(json_path, text_json);
  const std::string table = write_csvs(res, dir);
  const bool png = write_plot(cfg, res, dir);

  std::printf("\ntarget: rank %ld's final loss %.4f after %ld tokens (running mean over %ld steps)\n%s",
              long(res.lowest_rank), res.target_loss, long(res.tokens_lowest), long(res.window), table.c_str());
  if (res.tokens_highest >= 0)
    std::printf("token efficiency: rank %ld reaches it after %ld tokens = %.3f of rank %ld's tokens (%.1fx fewer)\n",
                long(res.highest_rank), long(res.tokens_highest), res.ratio, long(res.lowest_rank), res.speedup);
  else
    std::printf("token efficiency: rank %ld never reaches rank %ld's final loss in this budget\n",
                long(res.highest_rank), long(res.lowest_rank));
  std::printf("wrote %s/run.json, loss_curves.csv, token_efficiency.csv%s\n", dir.c_str(),
              png ? ", loss_curves.png" : "");
  folder.keep();
}

}  // namespace gs::cli
