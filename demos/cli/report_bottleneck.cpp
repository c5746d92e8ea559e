// The bottleneck command's report (demos/cli/reports.h): the measurement table, the final
// spectrum and leak test, run.json, the CSVs, the plots and the optional .npy inputs.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "analysis/head_json.h"
#include "demos/cli/model_options.h"
#include "demos/cli/device_option.h"
#include "demos/cli/output.h"
#include "demos/cli/plot.h"
#include "demos/cli/reports.h"
#include "nn/npy.h"

namespace gs::cli {
namespace {

using analysis::BottleneckSample;

std::string csv_metrics(const std::vector<BottleneckSample>& ss) {
  std::ostringstream o;
  o << "step,loss,logit_grad_norm,destroyed_fraction,visible_cosine,per_token_destroyed_mean,update_cosine,"
       "backbone_term_norm,head_term_norm,eym_bound_2d,first_block_relative\n";
  for (const auto& s : ss)
    o << s.step << "," << s.loss << "," << s.head.logit_grad_norm << "," << s.head.destroyed_fraction << ","
      << s.head.visible_cosine << "," << s.head.per_token.mean << "," << s.head.update.cosine << ","
      << s.head.update.backbone_term_norm << "," << s.head.update.head_term_norm << "," << s.head.spectrum.eym_bound_2d
      << "," << s.first_block_relative << "\n";
  return o.str();
}

std::string csv_trace(const std::vector<BottleneckSample>& ss) {
  std::ostringstream o;
  // id: unique within a step's trace (name#k for a repeated name, TraceRow::id)
  o << "step,order,id,name,op,shape,grad_norm,relative,below_head\n";
  for (const auto& s : ss)
    for (size_t i = 0; i < s.trace.rows.size(); ++i) {
      const auto& r = s.trace.rows[i];
      o << s.step << "," << i << "," << r.id << "," << r.name << "," << r.op << ",\"" << shape_str(r.shape) << "\","
        << r.grad_norm << "," << r.relative << "," << (r.below_head ? 1 : 0) << "\n";
    }
  return o.str();
}

nlohmann::json sample_json(const BottleneckSample& s) {
  nlohmann::json j = analysis::to_json_value(s.head);
  j["step"] = s.step;
  j["pass"] = s.fused ? "fused" : "logits";  // where G came from (MonitorOptions::fused)
  j["seconds"] = {{"total", s.seconds}, {"basis", s.basis_seconds}, {"pass", s.head.run.pass_s},
                  {"spectrum", s.head.run.spectrum_s}, {"leak", s.leak_seconds}};
  j["first_block_node"] = s.first_block_node;
  j["first_block_relative"] = s.first_block_relative;
  nlohmann::json tr = nlohmann::json::array();
  for (const auto& r : s.trace.rows)
    tr.push_back({{"id", r.id}, {"name", r.name}, {"op", r.op}, {"shape", r.shape}, {"grad_norm", r.grad_norm},
                  {"relative", r.relative}, {"below_head", r.below_head}});
  j["trace"] = tr;
  if (s.has_leak) j["leak"] = {{"destroyed_max", s.leak.destroyed_max}, {"visible_max_diff", s.leak.visible_max_diff},
                               {"nodes_checked", s.leak.nodes_checked}};
  return j;
}

void make_plots(const std::vector<BottleneckSample>& ss, const nn::LMConfig& c, const std::string& dir) {
  Series des{"destroyed fraction ||G - GQQ^T|| / ||G||", {}, {}}, cos{"visible cosine ||GQ|| / ||G||", {}, {}},
      upd{"update cosine <U, G> / (||U|| ||G||)", {}, {}}, ref{"random direction: sqrt(1 - k/V)", {}, {}, true},
      loss{"training loss (nats)", {}, {}}, first{"first layer ||grad|| / ||G||", {}, {}};
  const double k = static_cast<double>(ss.empty() ? 0 : ss.back().head.basis_rank), V = static_cast<double>(c.vocab);
  for (const auto& s : ss) {
    const double x = static_cast<double>(s.step);
    des.x.push_back(x), des.y.push_back(s.head.destroyed_fraction);
    cos.x.push_back(x), cos.y.push_back(s.head.visible_cosine);
    upd.x.push_back(x), upd.y.push_back(s.head.update.cosine);
    ref.x.push_back(x), ref.y.push_back(std::sqrt(std::max(0.0, 1 - k / V)));
    loss.x.push_back(x), loss.y.push_back(s.loss);
    first.x.push_back(x), first.y.push_back(s.first_block_relative);
  }
  plot({"How much of the logit gradient the head destroys (" + std::string(nn::backbone_name(c.backbone)) +
            ", V=" + std::to_string(c.vocab) +
            ", k=" + std::to_string(static_cast<int64_t>(k)) + ")",
        "training step", "fraction of ||G||_F", false, false, {des, cos, upd, ref}, 0, 1.05},
       dir + "/destroyed_fraction");
  plot({"Training loss", "training step", "cross-entropy (nats)", false, false, {loss}, 0, 0}, dir + "/loss");
  if (!ss.empty()) {
    const auto& last = ss.back();
    Series nodes{"step " + std::to_string(last.step), {}, {}};
    for (size_t i = 0; i < last.trace.rows.size(); ++i)
      if (last.trace.rows[i].relative > 0) {
        nodes.x.push_back(static_cast<double>(i));
        nodes.y.push_back(last.trace.rows[i].relative);
      }
    plot({"Gradient norm at every node, relative to ||G||_F (loss first, embeddings last)", "node (backward order)",
          "||grad|| / ||G||_F", false, true, {nodes}, 0, 0},
         dir + "/node_trace");
    const auto& sv = last.head.spectrum.singular_values;
    if (!sv.empty()) {
      Series energy{"cumulative share of ||G||_F^2", {}, {}}, kline{"rank 2k (what one SGD step can realise)", {}, {}, true};
      double cum = 0, total = last.head.logit_grad_norm * last.head.logit_grad_norm;
      for (size_t i = 0; i < sv.size(); ++i) {
        cum += sv[i] * sv[i];
        energy.x.push_back(static_cast<double>(i + 1));
        energy.y.push_back(total > 0 ? cum / total : 0);
      }
      kline.x = {2 * k, 2 * k};
      kline.y = {0, 1};
      plot({"Spectrum of the logit gradient G at step " + std::to_string(last.step), "number of singular components",
            "share of ||G||_F^2", true, false, {energy, kline}, 0, 1.05},
           dir + "/spectrum");
    }
  }
}

void print_summary(const BottleneckRun& run) {
  const nn::LMConfig& cfg = run.model;
  const nn::TrainConfig& tc = run.train;
  const BottleneckSample& fin = run.fin;
  std::printf("\ndestroyed fraction: %s\n", fin.head.metric == "jacobian"
                                                ? "per-token Jacobian metric (the head is not linear)"
                                                : "column-space metric (exact: the head is linear)");
  std::printf("%6s %8s %10s %9s %9s %12s\n", "step", "loss", "destroyed", "vis.cos", "upd.cos", "1st layer/G");
  for (const auto& s : run.samples)
    std::printf("%6ld %8.4f %10.4f %9.4f %9.4f %12.4e\n", static_cast<long>(s.step), s.loss, s.head.destroyed_fraction,
                s.head.visible_cosine, s.head.update.cosine, s.first_block_relative);
  const auto& sp = fin.head.spectrum;
  const int64_t N = tc.batch * tc.seq_len;
  std::printf("\nspectrum of G (final batch, %ld x %ld, %s): %ld / %ld / %ld / %ld components hold 70 / 90 / 99 / 99.9%% "
              "of ||G||^2 (at most min(N, V) = %ld exist), against 2k = %ld; the best rank-2k update still misses "
              "%.2f%% of ||G|| (Eckart-Young-Mirsky)\n",
              long(N), long(cfg.vocab), sp.exact ? "exact" : "randomized", long(sp.components_for_70),
              long(sp.components_for_90), long(sp.components_for_99), long(sp.components_for_999),
              long(std::min<int64_t>(N, cfg.vocab)), long(2 * fin.head.basis_rank), 100 * sp.eym_bound_2d);
  std::printf("leak test (final model): destroyed part reaching any node below the head: %.2e of that node's "
              "gradient; visible part vs full backward: %.2e (%ld nodes checked)\n",
              fin.leak.destroyed_max, fin.leak.visible_max_diff, static_cast<long>(fin.leak.nodes_checked));
}

}  // namespace

void report_bottleneck(const BottleneckRun& r, const std::string& dir) {
  print_summary(r);
  const nn::TrainConfig& tc = r.train;
  nlohmann::json run;
  run["command"] = "bottleneck";
  run["model"] = config_json(r.model);
  run["train"] = {{"steps", tc.steps}, {"batch", tc.batch}, {"seq_len", tc.seq_len}, {"lr", tc.lr},
                  {"optimizer", tc.optimizer}, {"schedule", tc.schedule}};
  run["data"] = r.data;
  run["device"] = r.device;
  run["compute"] = cpu_compute_json(r.model.dtype);
  run["measurements"] = nlohmann::json::array();
  for (const auto& s : r.samples) run["measurements"].push_back(sample_json(s));
  run["final"] = sample_json(r.fin);
  OutputFolder folder(dir);  // removed again if a write below fails
  write_file_atomic(dir + "/run.json", run.dump(2) + "\n");
  write_file_atomic(dir + "/metrics.csv", csv_metrics(r.samples));
  std::vector<BottleneckSample> all = r.samples;
  all.push_back(r.fin);
  write_file_atomic(dir + "/node_trace.csv", csv_trace(all));
  make_plots(all, r.model, dir);
  if (r.dump_final) {
    nn::save_npy(dir + "/final_H.npy", r.fin.inputs.H);
    nn::save_npy(dir + "/final_W.npy", r.fin.inputs.W);
    nn::save_npy(dir + "/final_targets.npy", r.fin.inputs.targets);
  }
  std::printf("\nresults: %s/ (run.json, metrics.csv, node_trace.csv, *.png%s)\n", dir.c_str(),
              r.dump_final ? ", final_{H,W,targets}.npy" : "");
  folder.keep();
}

}  // namespace gs::cli
