#include "analysis/remedies.h"

#include <chrono>
#include <cmath>
#include <limits>

#include "analysis/monitor.h"
#include "analysis/spamlang.h"
#include "autograd/ops.h"
#include "tensor/error.h"

namespace gs::analysis {
namespace {

constexpr const char* kOp = "remedies";

void check(const RemediesConfig& c, const nn::TokenStream& text) {
  if (c.heads.empty()) fail(kOp, "no heads to compare");
  for (const auto& h : c.heads) nn::parse_head(h, kOp);
  if (c.text_steps < 1 || c.batch < 1 || c.seq_len < 1 || c.eval_batches < 1)
    fail(kOp, "text_steps, batch, seq_len and eval_batches must be >= 1");
  for (int64_t r : c.spamlang_ratios)
    if (r < 2) fail(kOp, "a SpamLang ratio V / D must be >= 2, got ", r);
  if (text.size() < c.seq_len + 1) fail(kOp, "the text has ", text.size(), " tokens; seq_len ", c.seq_len, " needs ", c.seq_len + 1);
}

nn::LMConfig config_for(const RemediesConfig& c, const std::string& head, int64_t vocab) {
  nn::LMConfig m = c.model;
  m.vocab = vocab;
  m.context = std::max(m.context, c.seq_len);
  m.set_head(head, kOp);
  m.tied = false;
  if (m.head == nn::HeadKind::factorized) m.rank = std::max<int64_t>(1, vocab * m.d_model / (vocab + m.d_model));
  m.validate();
  return m;
}

int64_t head_parameters(const nn::LanguageModel& model) {
  int64_t n = 0;
  for (const auto& [name, p] : model.head()->named_parameters()) n += p.numel();
  return n;
}

// Trains on the text; returns the wall ms per step.
double train_text(nn::LanguageModel& model, const nn::TokenStream& text, const RemediesConfig& c) {
  nn::TrainConfig tc;
  tc.steps = c.text_steps;
  tc.batch = c.batch;
  tc.seq_len = c.seq_len;
  tc.lr = c.lr;
  tc.seed = c.model.seed;
  const auto t0 = std::chrono::steady_clock::now();
  train_loop(model.named_parameters(), [&](const nn::Batch& b) { return model.loss(b.inputs, b.targets); },
             [&](Generator& g) { return text.sample(c.batch, c.seq_len, g); }, tc);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
         static_cast<double>(c.text_steps);
}

}  // namespace

std::vector<RemedyRun> run_remedies(const RemediesConfig& cfg, const nn::TokenStream& text) {
  check(cfg, text);
  std::vector<RemedyRun> out;
  for (const std::string& name : cfg.heads) {
    const nn::LMConfig mc = config_for(cfg, name, text.vocab_size());
    auto model = nn::make_language_model(mc);
    RemedyRun r;
    r.head = name;
    r.head_parameters = head_parameters(*model);
    r.ms_per_step = train_text(*model, text, cfg);
    // held-out batches: their own generator, never the training one
    Generator eval_gen(mc.seed + 7919);
    double loss = 0;
    nn::Batch probe;
    for (int64_t i = 0; i < cfg.eval_batches; ++i) {
      const nn::Batch b = text.sample(cfg.batch, cfg.seq_len, eval_gen);
      NoGradGuard ng;
      loss += model->loss(b.inputs, b.targets).item<double>();
      if (i == 0) probe = b;
    }
    r.loss = loss / static_cast<double>(cfg.eval_batches);
    MonitorOptions mo;
    mo.leak_test = true;
    mo.fused = false;  // G from the logits: the same path for every head
    const BottleneckSample s = measure_bottleneck(*model, probe, cfg.text_steps, mo);
    r.metric = s.head.metric;
    r.destroyed_fraction = s.head.destroyed_fraction;
    r.linear_destroyed_fraction = model->head()->linear() ? s.head.destroyed_fraction
                                                          : std::numeric_limits<double>::quiet_NaN();
    r.leak_destroyed_max = s.leak.destroyed_max;
    for (int64_t ratio : cfg.spamlang_ratios) {
      SpamLangConfig sc;
      sc.vocabs = {ratio * mc.d_model};
      sc.dims = {mc.d_model};
      sc.model = config_for(cfg, name, ratio * mc.d_model);
      sc.model.context = std::max<int64_t>(sc.model.context, 2);
      sc.steps = cfg.spamlang_steps;
      sc.batch = cfg.spamlang_batch;
      sc.seq_len = 2;
      sc.lr = cfg.spamlang_lr;
      sc.cover = cfg.spamlang_cover;
      sc.control = false;
      sc.wide_control = false;
      const SpamLangResult res = run_spamlang(sc);
      r.spamlang_vocab.push_back(ratio * mc.d_model);
      r.spamlang_accuracy.push_back(res.runs.front().accuracy);
    }
    if (cfg.log)
      cfg.log(name + ": destroyed " + std::to_string(r.destroyed_fraction) + " (" + r.metric + "), loss " +
              std::to_string(r.loss) + ", " + std::to_string(r.ms_per_step) + " ms/step");
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace gs::analysis
