// run_head_rank: the same backbone with a factorized head D -> r -> V for each rank r, the same
// batches and budget; loss curves and the token-efficiency ratio (analysis/experiments.h).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "analysis/data_parallel.h"
#include "analysis/experiments.h"
#include "analysis/head_bottleneck.h"
#include "autograd/ops.h"

namespace gs::analysis {

std::vector<double> running_mean(const std::vector<double>& x, int64_t window) {
  if (window < 1) fail("running_mean", "window must be >= 1, got ", window);
  std::vector<double> out(x.size());
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sum += x[i];
    if (i >= static_cast<size_t>(window)) sum -= x[i - static_cast<size_t>(window)];
    out[i] = sum / static_cast<double>(std::min<size_t>(i + 1, static_cast<size_t>(window)));
  }
  return out;
}

namespace {
nn::LMConfig rank_model(const HeadRankConfig& cfg, int64_t r) {
  nn::LMConfig m = cfg.model;
  m.head = nn::HeadKind::factorized;
  m.rank = r;
  m.tied = false;
  m.context = std::max(m.context, cfg.seq_len);
  return m;
}
}  // namespace

void check_head_rank_config(const HeadRankConfig& cfg) {
  const char* op = "head-rank";
  if (cfg.ranks.empty()) fail(op, "the rank list is empty");
  if (cfg.steps < 1 || cfg.batch < 1 || cfg.seq_len < 1)
    fail(op, "steps, batch and seq_len must be >= 1, got ", cfg.steps, ", ", cfg.batch, ", ", cfg.seq_len);
  if (!(cfg.lr > 0) || !std::isfinite(cfg.lr)) fail(op, "lr must be finite and > 0, got ", cfg.lr);
  if (cfg.smooth < 0) fail(op, "smoothing window must be >= 0, got ", cfg.smooth);
  if (cfg.warmup < 0) fail(op, "warmup must be >= 0, got ", cfg.warmup);
  if (const int n = rank_count(cfg.comm); cfg.batch % n != 0)
    fail(op, "batch ", cfg.batch, " is not a multiple of the ", n, " processes: each takes batch / ", n, " sequences");
  std::vector<int64_t> ranks = cfg.ranks;
  std::sort(ranks.begin(), ranks.end());
  if (std::adjacent_find(ranks.begin(), ranks.end()) != ranks.end()) fail(op, "a rank is listed twice");
  for (int64_t r : ranks) {
    if (r < 1) fail(op, "every rank must be >= 1, got ", r);
    if (r > cfg.model.d_model)
      fail(op, "rank ", r, " exceeds the hidden width D = ", cfg.model.d_model,
           " (a factorized head D -> r -> V has rank at most D)");
  }
  for (int64_t r : ranks) rank_model(cfg, r).validate();
}

HeadRankResult run_head_rank(const HeadRankConfig& cfg) {
  check_head_rank_config(cfg);
  if (!cfg.data) fail("head-rank", "no data source");
  std::vector<int64_t> ranks = cfg.ranks;
  std::sort(ranks.begin(), ranks.end());
  auto model_cfg = [&](int64_t r) { return rank_model(cfg, r); };

  nn::TrainConfig tc;
  tc.steps = cfg.steps;
  tc.batch = cfg.batch;
  tc.seq_len = cfg.seq_len;
  tc.lr = cfg.lr;
  tc.warmup = cfg.warmup;
  tc.seed = cfg.data_seed;
  tc.progress = false;

  HeadRankResult out;
  out.tokens_per_step = cfg.batch * cfg.seq_len;
  out.window = cfg.smooth > 0 ? cfg.smooth : std::max<int64_t>(1, cfg.steps / 10);
  for (int64_t r : ranks) {
    const auto t0 = std::chrono::steady_clock::now();
    auto model = nn::make_language_model(model_cfg(r));
    HeadRankCurve c;
    c.rank = r;
    nn::Batch last;
    c.losses = train_loop(
        model->named_parameters(),
        [&](const nn::Batch& b) {
          last = b;  // this rank's share when data parallel
          return model->loss(b.inputs, b.targets);
        },
        cfg.data, tc, {}, cfg.comm);
    c.smoothed = running_mean(c.losses, out.window);
    c.final_loss = c.smoothed.back();
    {
      NoGradGuard no_grad;
      const Tensor H = model->head()->head_input(model->hidden(last.inputs));
      HeadMetricsOptions ho;
      ho.comm = cfg.comm;  // every rank's share of the last batch: the whole batch's figure
      c.destroyed_fraction =
          head_metrics(H, model->head()->head_matrix(), reshape(last.targets, {last.targets.numel()}), ho)
              .destroyed_fraction;
    }
    c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (cfg.on_model) cfg.on_model(c, *model, last);
    if (cfg.log) {
      char buf[200];
      std::snprintf(buf, sizeof buf, "head-rank r=%ld: loss %.3f -> %.3f (smoothed final %.3f), destroyed %.3f (%.1fs)",
                    long(r), c.losses.front(), c.losses.back(), c.final_loss, c.destroyed_fraction, c.seconds);
      cfg.log(buf);
    }
    out.curves.push_back(std::move(c));
  }
  out.lowest_rank = ranks.front();
  out.highest_rank = ranks.back();
  out.target_loss = out.curves.front().final_loss;
  out.tokens_lowest = cfg.steps * out.tokens_per_step;
  for (auto& c : out.curves) {
    const auto it = std::find_if(c.smoothed.begin(), c.smoothed.end(), [&](double l) { return l <= out.target_loss; });
    if (it != c.smoothed.end()) c.tokens_to_target = (it - c.smoothed.begin() + 1) * out.tokens_per_step;
  }
  out.tokens_highest = out.curves.back().tokens_to_target;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  out.ratio = out.tokens_highest > 0 ? double(out.tokens_highest) / double(out.tokens_lowest) : nan;
  out.speedup = out.tokens_highest > 0 ? double(out.tokens_lowest) / double(out.tokens_highest) : nan;
  return out;
}

}  // namespace gs::analysis
