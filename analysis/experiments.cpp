// The training loop, the direct logit table and the SpamLang grid (analysis/experiments.h).
// run_head_rank and run_equal_norm live in experiments_rank.cpp and experiments_equal_norm.cpp.
#include "analysis/experiments.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include "analysis/data_parallel.h"
#include "analysis/head_bottleneck.h"
#include "autograd/ops.h"
#include "comm/communicator.h"
#include "nn/grad_buckets.h"
#include "nn/optim.h"
#include "tensor/ops.h"

namespace gs::analysis {

std::vector<double> train_loop(const nn::NamedTensors& params, const std::function<Tensor(const nn::Batch&)>& loss_of,
                               const BatchSource& source, const nn::TrainConfig& tc,
                               const std::function<void(int64_t, double)>& on_step, comm::Communicator* ranks) {
  if (!source) fail("train_loop", "no batch source");
  if (tc.steps < 1) return {};
  auto opt = nn::make_optimizer(tc, params);
  const nn::LrSchedule sched = nn::make_schedule(tc.schedule, tc.lr, std::min(tc.warmup, tc.steps), tc.steps, tc.lr * tc.min_lr_ratio);
  Generator gen(tc.seed);
  std::vector<double> losses;
  losses.reserve(static_cast<size_t>(std::max<int64_t>(0, tc.steps)));
  // data parallel: the trainer's machinery (the same buckets, the same split of the batch)
  const bool dp = spans_ranks(ranks);
  std::unique_ptr<nn::GradBuckets> buckets;
  if (dp) buckets = std::make_unique<nn::GradBuckets>(params, *ranks);
  for (int64_t step = 0; step < tc.steps; ++step) {
    opt->lr = sched.at(step);
    const nn::Batch b = nn::rank_share(source(gen), ranks);  // the global batch itself in one process
    const Tensor loss = loss_of(b);
    double lv = loss.item<double>();
    if (!dp && !std::isfinite(lv)) fail("train", "loss is ", lv, " at step ", step + 1, "; lower the learning rate");
    if (dp) buckets->arm();
    backward(loss);
    if (dp) {
      buckets->finish();  // every .grad the mean over the ranks
      ranks->all_reduce_sum(&lv, 1, comm::Elem::f64);
      lv /= static_cast<double>(ranks->size());
      // after the sum: every rank sees the same value and stops together
      if (!std::isfinite(lv)) fail("train", "loss is ", lv, " at step ", step + 1, "; lower the learning rate");
    }
    nn::clip_grad_norm(params, tc.clip > 0 ? tc.clip : INFINITY);
    opt->step();
    opt->zero_grad();
    losses.push_back(lv);
    if (on_step) on_step(step + 1, lv);
  }
  return losses;
}

DirectLogitTable::DirectLogitTable(int64_t vocab, DType dtype) {
  if (vocab < 1) fail("DirectLogitTable", "vocab must be >= 1, got ", vocab);
  table = register_parameter("table", zeros({vocab, vocab}, dtype));
  log_scale = register_parameter("log_scale", zeros({1}, dtype));
}

Tensor DirectLogitTable::forward(const Tensor& tokens) const {
  if (tokens.dtype() != kInt64 || tokens.dim() != 2)
    fail("DirectLogitTable", "tokens must be int64 [B, T], got ", shape_str(tokens.shape()));
  const Tensor z = mul(embedding(table, tokens), exp(log_scale));  // [B, T, V] * e^log_scale
  return set_name(reshape(z, {tokens.numel(), vocab()}), node_name("logits"));
}

Tensor DirectLogitTable::loss(const Tensor& tokens, const Tensor& targets) const {
  return cross_entropy(forward(tokens), reshape(targets, {targets.numel()}));
}

namespace {

template <class Logits>
SpamLangEval evaluate(const Logits& logits_of, const SpamLang& data, int64_t sequences, Generator& gen, int64_t batch) {
  if (sequences < 1 || batch < 1) fail("evaluate_spamlang", "sequences and batch must be >= 1");
  NoGradGuard no_grad;
  int64_t correct = 0, total = 0;
  double loss_sum = 0;
  for (int64_t done = 0; done < sequences; done += batch) {
    const nn::Batch b = data.sample(std::min(batch, sequences - done), gen);
    const Tensor z = logits_of(b.inputs);
    const Tensor y = reshape(b.targets, {b.targets.numel()});
    const auto ce = op::cross_entropy_forward(z, y);
    loss_sum += ce.loss.item<double>();
    const auto p = op::argmax(z, 1).to_vector<int64_t>();
    const auto t = y.to_vector<int64_t>();
    for (size_t i = 0; i < p.size(); ++i) correct += p[i] == t[i];
    total += static_cast<int64_t>(p.size());
  }
  return {loss_sum / static_cast<double>(total), static_cast<double>(correct) / static_cast<double>(total)};
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void check_sizes(const char* op, int64_t steps, int64_t batch, int64_t seq_len, double lr) {
  if (steps < 1) fail(op, "steps must be >= 1, got ", steps);
  if (batch < 1) fail(op, "batch must be >= 1, got ", batch);
  if (seq_len < 1) fail(op, "seq_len must be >= 1, got ", seq_len);
  if (!(lr > 0) || !std::isfinite(lr)) fail(op, "lr must be finite and > 0, got ", lr);
}

std::string fmt(const char* f, auto... a) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a...);
  return buf;
}

}  // namespace

SpamLangEval evaluate_spamlang(nn::LanguageModel& model, const SpamLang& data, int64_t sequences, Generator& gen,
                               int64_t batch) {
  if (data.vocab() > model.config().vocab)
    fail("evaluate_spamlang", "SpamLang vocab ", data.vocab(), " exceeds the model's vocab ", model.config().vocab);
  const bool was_training = model.is_training();
  model.eval();
  const SpamLangEval e = evaluate([&](const Tensor& x) { return model.forward(x); }, data, sequences, gen, batch);
  model.train(was_training);
  return e;
}

SpamLangEval evaluate_spamlang(const DirectLogitTable& table, const SpamLang& data, int64_t sequences, Generator& gen,
                               int64_t batch) {
  if (data.vocab() > table.vocab())
    fail("evaluate_spamlang", "SpamLang vocab ", data.vocab(), " exceeds the table's vocab ", table.vocab());
  return evaluate([&](const Tensor& x) { return table.forward(x); }, data, sequences, gen, batch);
}

namespace {
nn::LMConfig spamlang_model(const SpamLangConfig& cfg, int64_t V, int64_t D, int64_t seed) {
  nn::LMConfig m = cfg.model;
  m.vocab = V;
  m.d_model = D;
  m.context = cfg.seq_len;
  m.seed = cfg.model.seed + static_cast<uint64_t>(seed);
  return m;
}
}  // namespace

int64_t wide_control_dim(const nn::LMConfig& model, int64_t V) {
  const int64_t h = model.width_multiple();
  return (V + h - 1) / h * h;
}

void check_spamlang_config(const SpamLangConfig& cfg) {
  const char* op = "spamlang";
  if (cfg.vocabs.empty()) fail(op, "the vocabulary list is empty");
  if (cfg.dims.empty()) fail(op, "the dimension list is empty");
  for (int64_t v : cfg.vocabs)
    if (v < 2) fail(op, "every vocabulary size must be >= 2, got ", v);
  for (int64_t d : cfg.dims)
    if (d < 2) fail(op, "every dimension must be >= 2 (D = 1 cannot separate symbols), got ", d);
  if (cfg.seeds < 1) fail(op, "seeds must be >= 1, got ", cfg.seeds);
  if (cfg.eval_sequences < 1) fail(op, "eval_sequences must be >= 1, got ", cfg.eval_sequences);
  if (cfg.warmup < 0) fail(op, "warmup must be >= 0, got ", cfg.warmup);
  if (cfg.cover < 0) fail(op, "cover must be >= 0, got ", cfg.cover);
  if (cfg.cover > 0 && cfg.zipf != 0) fail(op, "cover needs uniform symbols (zipf 0), got zipf ", cfg.zipf);
  check_sizes(op, cfg.steps, cfg.batch, cfg.seq_len, cfg.lr);
  if (cfg.control && (!(cfg.control_lr > 0) || !std::isfinite(cfg.control_lr)))
    fail(op, "control lr must be finite and > 0, got ", cfg.control_lr);
  if (cfg.wide_control && cfg.wide_control_max_vocab < 0)
    fail(op, "wide_control_max_vocab must be >= 0, got ", cfg.wide_control_max_vocab);
  SpamLang(cfg.vocabs.front(), cfg.seq_len, cfg.zipf);  // checks the Zipf exponent
  for (int64_t V : cfg.vocabs)
    for (int64_t D : cfg.dims) {
      const nn::LMConfig m = spamlang_model(cfg, V, D, 0);
      m.validate();
      if (D % m.width_multiple() != 0)
        fail(op, "the ", m.backbone, "'s ", m.width_multiple(), " attention heads do not divide D = ", D,
             " (pick a head count dividing every D)");
    }
  if (cfg.wide_control)
    for (int64_t V : cfg.vocabs)
      if (V <= cfg.wide_control_max_vocab) spamlang_model(cfg, V, wide_control_dim(cfg.model, V), 0).validate();
}

SpamLangResult run_spamlang(const SpamLangConfig& cfg) {
  check_spamlang_config(cfg);
  auto model_cfg = [&](int64_t V, int64_t D, int64_t seed) { return spamlang_model(cfg, V, D, seed); };

  nn::TrainConfig tc;
  tc.steps = cfg.steps;
  tc.batch = cfg.batch;
  tc.seq_len = cfg.seq_len;
  tc.lr = cfg.lr;
  tc.warmup = cfg.warmup;
  tc.progress = false;
  // held-out sequences come from a generator the training data never uses
  auto eval_gen = [&](int64_t seed) { return Generator(0x5EEDull * 1000003ull + cfg.model.seed + uint64_t(seed)); };

  SpamLangResult out;
  for (int64_t V : cfg.vocabs) {
    const SpamLang data(V, cfg.seq_len, cfg.zipf);
    // every model of this V (and its control) sees the same batches: a fresh pass state per run
    std::unique_ptr<SpamLangPasses> passes;
    std::vector<uint8_t> seen;
    const BatchSource source = [&](Generator& g) {
      nn::Batch b = passes ? passes->sample(cfg.batch, g) : data.sample(cfg.batch, g);
      for (int64_t sym : SpamLang::symbols(b)) seen[static_cast<size_t>(sym)] = 1;
      return b;
    };
    auto start_run = [&] {
      if (cfg.cover > 0) passes = std::make_unique<SpamLangPasses>(data);
      seen.assign(static_cast<size_t>(V), 0);
    };
    auto unseen = [&] { return static_cast<int64_t>(std::count(seen.begin(), seen.end(), uint8_t{0})); };
    tc.steps = cfg.cover > 0 ? std::max(cfg.steps, (cfg.cover * V + cfg.batch - 1) / cfg.batch) : cfg.steps;
    // one language model of width D, seed s, on this V's batches
    auto train_lm = [&](int64_t D, int64_t s) {
      const auto t0 = std::chrono::steady_clock::now();
      auto model = nn::make_language_model(model_cfg(V, D, s));
      tc.seed = cfg.model.seed + static_cast<uint64_t>(s);
      tc.lr = cfg.lr;
      SpamLangRun r;
      r.vocab = V;
      r.dim = D;
      r.seed = s;
      r.steps = tc.steps;
      start_run();
      r.losses = train_loop(
          model->named_parameters(), [&](const nn::Batch& b) { return model->loss(b.inputs, b.targets); }, source, tc);
      r.unseen_symbols = unseen();
      Generator eg = eval_gen(s);
      const SpamLangEval e = evaluate_spamlang(*model, data, cfg.eval_sequences, eg);
      r.final_loss = e.loss;
      r.accuracy = e.accuracy;
      Generator mg = eval_gen(s);
      const nn::Batch measured = data.sample(std::min<int64_t>(cfg.eval_sequences, 64), mg);
      {
        NoGradGuard no_grad;
        model->eval();
        const Tensor H = model->head()->head_input(model->hidden(measured.inputs));
        r.destroyed_fraction =
            head_metrics(H, model->head()->head_matrix(), reshape(measured.targets, {measured.targets.numel()}))
                .destroyed_fraction;
      }
      r.seconds = seconds_since(t0);
      if (cfg.on_model) cfg.on_model(r, *model, measured);
      return r;
    };
    for (int64_t D : cfg.dims) {
      for (int64_t s = 0; s < cfg.seeds; ++s) {
        SpamLangRun r = train_lm(D, s);
        if (cfg.log)
          cfg.log(fmt("spamlang V=%ld D=%ld seed=%ld: %ld steps (%ld symbols unseen), train loss %.3f -> %.3f, "
                      "held-out loss %.3f, accuracy %.3f, destroyed %.3f (%.1fs)",
                      long(V), long(D), long(s), long(r.steps), long(r.unseen_symbols), r.losses.front(),
                      r.losses.back(), r.final_loss, r.accuracy, r.destroyed_fraction, r.seconds));
        out.runs.push_back(std::move(r));
      }
    }
    if (cfg.wide_control && V <= cfg.wide_control_max_vocab) {
      const int64_t D = wide_control_dim(cfg.model, V);
      for (int64_t s = 0; s < cfg.seeds; ++s) {
        SpamLangRun r = train_lm(D, s);
        if (cfg.log)
          cfg.log(fmt("spamlang wide control (same backbone and lr, D=%ld >= V) V=%ld seed=%ld: held-out loss %.3f, "
                      "accuracy %.3f, destroyed %.3f (%.1fs)",
                      long(D), long(V), long(s), r.final_loss, r.accuracy, r.destroyed_fraction, r.seconds));
        out.wide.push_back(std::move(r));
      }
    }
    if (!cfg.control) continue;
    for (int64_t s = 0; s < cfg.seeds; ++s) {
      const auto t0 = std::chrono::steady_clock::now();
      DirectLogitTable table(V, cfg.model.dtype);
      tc.seed = cfg.model.seed + static_cast<uint64_t>(s);
      tc.lr = cfg.control_lr;
      SpamLangControl c;
      c.vocab = V;
      c.seed = s;
      c.steps = tc.steps;
      start_run();
      c.losses = train_loop(
          table.named_parameters(), [&](const nn::Batch& b) { return table.loss(b.inputs, b.targets); }, source, tc);
      Generator eg = eval_gen(s);
      const SpamLangEval e = evaluate_spamlang(table, data, cfg.eval_sequences, eg);
      c.final_loss = e.loss;
      c.accuracy = e.accuracy;
      c.seconds = seconds_since(t0);
      if (cfg.log)
        cfg.log(fmt("spamlang control (direct logit table) V=%ld seed=%ld: held-out loss %.3f, accuracy %.3f (%.1fs)",
                    long(V), long(s), c.final_loss, c.accuracy, c.seconds));
      out.controls.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace gs::analysis
