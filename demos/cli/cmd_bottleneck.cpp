// gradscope bottleneck — the main job. Trains a small language model (on the embedded text by
// default) and every k steps measures how much of the exact logit gradient the head destroys,
// the update it can still realise, and the gradient norm at every node. Ends with the leak test,
// a summary table, and run.json, metrics.csv, node_trace.csv and PNG plots in the output folder
// (with --dump-final also the final measurement's H, W and targets as .npy).
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "analysis/head_json.h"
#include "analysis/monitor.h"
#include "demos/cli/commands.h"
#include "demos/cli/device_option.h"
#include "demos/cli/model_options.h"
#include "demos/cli/output.h"
#include "demos/cli/plot.h"
#include "demos/cli/train_data.h"
#include "nn/device.h"
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
  o << "step,order,name,op,shape,grad_norm,relative,below_head\n";
  for (const auto& s : ss)
    for (size_t i = 0; i < s.trace.rows.size(); ++i) {
      const auto& r = s.trace.rows[i];
      o << s.step << "," << i << "," << r.name << "," << r.op << ",\"" << shape_str(r.shape) << "\"," << r.grad_norm << ","
        << r.relative << "," << (r.below_head ? 1 : 0) << "\n";
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
    tr.push_back({{"name", r.name}, {"op", r.op}, {"shape", r.shape}, {"grad_norm", r.grad_norm},
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
  plot({"How much of the logit gradient the head destroys (" + c.backbone + ", V=" + std::to_string(c.vocab) +
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

}  // namespace

int run_bottleneck(const Args& args) {
  Options o("bottleneck",
            "Train a small LM and measure, every few steps, how much of the exact logit gradient the head destroys.\n"
            "Defaults: byte-level ids (V = 256) of the embedded text, D = 32, T = 64, 200 steps, every 20.\n"
            "--tokenizer gpt2 switches to the paper's regime: GPT-2's V = 50257 on Debian's fortunes corpus,\n"
            "D = 128 (V/D = 393), T = 128, 16 x 128 = 2048 measured tokens, 150 steps, every 25 (any option\n"
            "given overrides its default).");
  add_model_options(o);
  add_train_data_options(o);
  o.add("steps", "200", "training steps")
      .add("batch", "16", "sequences per step")
      .add("lr", "3e-3", "peak learning rate (AdamW, warmup + cosine)")
      .add("every", "20", "measure every N steps")
      .flag("dump-final", "also write the final measurement's inputs, to recompute run.json's \"final\" elsewhere: "
                          "final_H.npy (head input rows [N, k]), final_W.npy (head matrix [V, k]), final_targets.npy")
      .add("out", "", "output folder (default ./gradscope-out/bottleneck-<timestamp>)");
  add_device_option(o);
  std::vector<std::string> with_defaults = with_bottleneck_defaults(args);
  if (asks_for_gpt2(args)) with_defaults.insert(with_defaults.begin(), {"--steps", "150", "--every", "25"});
  if (!o.parse(with_defaults)) return 0;

  // every check before the output folder is made
  const Device device = device_from(o);
  const TrainData data = train_data_from(o, o.integer("seq-len"));
  const nn::LMConfig cfg = model_config_from(o, data.vocab);
  const nn::TrainConfig tc = train_config_from(o);
  analysis::MonitorOptions mo;
  mo.every = o.integer("every");
  if (mo.every < 1) throw std::runtime_error("option --every: must be >= 1");
  auto model = nn::make_language_model(cfg);
  if (device != Device::CPU) nn::to_device(*model, device);  // built on the CPU (same weights), then moved
  const std::string device_name = device_label(device);
  const std::string dir = plan_run_dir("bottleneck", o.str("out"));  // checked; made when the results exist

  std::printf("gradscope bottleneck: %s backbone, %s head (k = %ld), V = %ld, D = %ld, %ld layers, %ld parameters\n",
              cfg.backbone.c_str(), cfg.head.c_str(), static_cast<long>(model->head()->rank()),
              static_cast<long>(cfg.vocab), static_cast<long>(cfg.d_model), static_cast<long>(cfg.n_layer),
              static_cast<long>(model->parameter_count()));
  if (device != Device::CPU) std::printf("device: %s\n", device_name.c_str());
  std::printf("data: %s; %ld steps of %ld x %ld tokens; measuring every %ld steps\n", data.description.c_str(),
              static_cast<long>(tc.steps), static_cast<long>(tc.batch), static_cast<long>(tc.seq_len),
              static_cast<long>(mo.every));
  std::printf("a random direction in R^V keeps sqrt(k/V) = %.3f of its norm in a k-dim subspace: destroyed %.3f\n\n",
              std::sqrt(double(model->head()->rank()) / double(cfg.vocab)),
              std::sqrt(1 - double(model->head()->rank()) / double(cfg.vocab)));
  std::fflush(stdout);

  Generator probe_gen(cfg.seed + 1);
  const std::vector<BottleneckSample> ss = train_and_watch(model, data, tc, mo, probe_gen);

  // the leak test on the final model and a fresh batch
  analysis::MonitorOptions last = mo;
  last.leak_test = true;
  last.keep_inputs = o.on("dump-final");
  const BottleneckSample fin =
      analysis::measure_bottleneck(*model, data.sample(tc.batch, tc.seq_len, probe_gen), tc.steps, last);

  std::printf("\n%6s %8s %10s %9s %9s %12s\n", "step", "loss", "destroyed", "vis.cos", "upd.cos", "1st layer/G");
  for (const auto& s : ss)
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

  nlohmann::json run;
  run["command"] = "bottleneck";
  run["model"] = config_json(cfg);
  run["train"] = {{"steps", tc.steps}, {"batch", tc.batch}, {"seq_len", tc.seq_len}, {"lr", tc.lr},
                  {"optimizer", tc.optimizer}, {"schedule", tc.schedule}};
  run["data"] = data.description;
  run["device"] = device_name;
  run["measurements"] = nlohmann::json::array();
  for (const auto& s : ss) run["measurements"].push_back(sample_json(s));
  run["final"] = sample_json(fin);
  OutputFolder folder(dir);  // removed again if a write below fails
  write_file_atomic(dir + "/run.json", run.dump(2) + "\n");
  write_file_atomic(dir + "/metrics.csv", csv_metrics(ss));
  std::vector<BottleneckSample> all = ss;
  all.push_back(fin);
  write_file_atomic(dir + "/node_trace.csv", csv_trace(all));
  make_plots(all, cfg, dir);
  if (last.keep_inputs) {
    nn::save_npy(dir + "/final_H.npy", fin.inputs.H);
    nn::save_npy(dir + "/final_W.npy", fin.inputs.W);
    nn::save_npy(dir + "/final_targets.npy", fin.inputs.targets);
  }
  std::printf("\nresults: %s/ (run.json, metrics.csv, node_trace.csv, *.png%s)\n", dir.c_str(),
              last.keep_inputs ? ", final_{H,W,targets}.npy" : "");
  folder.keep();
  return 0;
}

}  // namespace gs::cli
