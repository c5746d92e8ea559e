#pragma once
// The reports of the experiment commands: what a command prints and writes once its experiment
// (analysis/experiments.h, analysis/backbones.h, analysis/monitor.h) has run. Each takes the
// configuration and the result and nothing else of the command, so the command reads options,
// builds the configuration, runs the experiment and hands both here. Each writes into `dir` (the
// planned output folder: made here, with the results, and removed again if a write fails) and to
// `json_path` when not empty. One report per file: report_<command>.cpp.
#include <string>
#include <vector>

#include "analysis/backbones.h"
#include "analysis/experiments.h"
#include "analysis/remedies.h"
#include "analysis/monitor.h"
#include "nn/lm.h"
#include "nn/trainer.h"

namespace gs::cli {

// spamlang: the table on stdout; run.json (and --json: runs, control, wide_control), runs.csv,
// summary.csv, control.csv (with controls), loss_curves.csv, accuracy_heatmap and loss_curves plots.
void report_spamlang(const analysis::SpamLangConfig& cfg, const analysis::SpamLangResult& res, const std::string& dir,
                     const std::string& json_path);

// remedies: the comparison table on stdout; run.json, {"heads": [...]} to --json, remedies.csv,
// the remedies plot.
void report_remedies(const analysis::RemediesConfig& cfg, const std::vector<analysis::RemedyRun>& runs,
                     const std::string& dir, const std::string& json_path);

// head-rank: run.json (the same JSON to --json), loss_curves.csv, token_efficiency.csv, the
// loss_curves plot; the token-efficiency table on stdout. `data` is "spamlang" or "text", `text`
// the --text path (empty: the default corpus).
void report_head_rank(const analysis::HeadRankConfig& cfg, const analysis::HeadRankResult& res,
                      const std::string& data, const std::string& text, const std::string& dir,
                      const std::string& json_path);

// equal-norm: run.json (the same JSON to --json), equal_norm.csv, the decrease and ratio plots,
// and the summary on stdout. What was measured: `source` ("trained here" or the checkpoint's
// path) after `trained_steps` steps, on a batch of batch x seq_len tokens drawn with data_seed
// from `data` ("spamlang" or "text").
struct EqualNormSubject {
  nn::LMConfig model;
  std::string source, data;
  int64_t trained_steps = 0, batch = 0, seq_len = 0, data_seed = 0;
};
void report_equal_norm(const EqualNormSubject& subject, const analysis::EqualNormResult& r, const std::string& dir,
                       const std::string& json_path);

// backbones: the Markdown table on stdout and in table.md; run.json (the same JSON to --json),
// runs.csv, curves.csv, the destroyed_fraction plot; with cfg.monitor.keep_inputs each run's
// final_<backbone>_seed<seed>_{H,W,targets}.npy. `data` describes the training data, `device`
// the device the runs used.
void report_backbones(const analysis::BackbonesConfig& cfg, const std::vector<analysis::BackboneRun>& runs,
                      const std::string& data, const std::string& device, const std::string& dir,
                      const std::string& json_path);

// bottleneck: the measurement table, the final spectrum and the leak test on stdout; run.json,
// metrics.csv, node_trace.csv and the plots (with fin.inputs kept: final_{H,W,targets}.npy).
// `samples` are the measurements during training, `fin` the final one with the leak test.
struct BottleneckRun {
  nn::LMConfig model;
  nn::TrainConfig train;
  std::string data, device;
  std::vector<analysis::BottleneckSample> samples;
  analysis::BottleneckSample fin;
  bool dump_final = false;
};
void report_bottleneck(const BottleneckRun& run, const std::string& dir);

}  // namespace gs::cli
