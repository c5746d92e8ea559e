// attach_analysis: your own training loop on gradscope, with the bottleneck analysis attached
// through the public per-step callback (nn::StepCallback, the same one nn::Trainer::run takes).
//
// The loop is written out by hand (sample, loss, backward, clip, optimiser step); after every
// step it calls the callback with an nn::StepInfo. analysis::BottleneckMonitor::callback()
// measures every k steps (and at the last one): head metrics of the step's batch, a node trace of
// one backward pass, the first backbone layer's share of the logit gradient. Measuring changes
// nothing in the model and touches no .grad, so the loop does not notice it.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "analysis/monitor.h"
#include "autograd/ops.h"
#include "nn/lm.h"
#include "nn/optim.h"
#include "nn/trainer.h"

namespace {

int failures = 0;
void check(bool ok, const char* what) {
  std::printf("  [%s] %s\n", ok ? "ok" : "FAILED", what);
  if (!ok) ++failures;
}

}  // namespace

int main() {
  using namespace gs;
  nn::LMConfig cfg;
  cfg.vocab = 64;
  cfg.d_model = 16;  // V = 64 > D = 16: the head is a bottleneck
  cfg.n_layer = 1;
  cfg.n_head = 2;
  cfg.context = 32;
  cfg.seed = 3;
  auto model = nn::make_language_model(cfg);

  // Your data: here a stream following x[t] = (x[t-1] + 3 x[t-2]) mod V.
  std::vector<int64_t> tokens{5, 9};
  while (tokens.size() < 5000)
    tokens.push_back((tokens[tokens.size() - 1] + 3 * tokens[tokens.size() - 2]) % cfg.vocab);
  const nn::TokenStream stream(tokens, cfg.vocab);

  const int64_t steps = 60, every = 20, B = 8, T = 32;
  analysis::MonitorOptions mo;
  mo.every = every;
  mo.topk = 8;  // leading singular values of the logit gradient
  analysis::BottleneckMonitor monitor(model, mo, steps);
  monitor.on_sample = [](const analysis::BottleneckSample& s) {
    std::printf("  step %3lld  loss %.4f  destroyed_fraction %.4f  first block (%s) receives %.4f of ||G||\n",
                static_cast<long long>(s.step), s.loss, s.head.destroyed_fraction, s.first_block_node.c_str(),
                s.first_block_relative);
  };
  const nn::StepCallback on_step = monitor.callback();

  // ---- the user's loop -----------------------------------------------------------------------
  nn::AdamW opt(model->named_parameters(), 3e-3);
  Generator data_gen(1);
  std::vector<double> losses;
  for (int64_t step = 1; step <= steps; ++step) {
    const nn::Batch batch = stream.sample(B, T, data_gen);
    const Tensor loss = model->loss(batch.inputs, batch.targets);
    opt.zero_grad();
    backward(loss);
    const double grad_norm = nn::clip_grad_norm(model->named_parameters(), 1.0);
    opt.step();
    losses.push_back(loss.item<double>());
    on_step(nn::StepInfo{step, losses.back(), opt.lr, grad_norm, 0.0, batch});  // the analysis hook
  }

  // ---- checks --------------------------------------------------------------------------------
  const auto& samples = monitor.samples();
  std::printf("%zu measurements; loss %.4f -> %.4f\n", samples.size(), losses.front(), losses.back());
  check(samples.size() == static_cast<size_t>(steps / every), "one measurement every k steps");
  bool at_multiples = true, in_range = true, traced = true, norms_agree = true;
  for (size_t i = 0; i < samples.size(); ++i) {
    const analysis::BottleneckSample& s = samples[i];
    at_multiples = at_multiples && s.step == static_cast<int64_t>(i + 1) * every;
    in_range = in_range && std::isfinite(s.head.destroyed_fraction) && s.head.destroyed_fraction > 0 &&
               s.head.destroyed_fraction < 1;
    traced = traced && !s.trace.rows.empty() && !s.first_block_node.empty();
    // ||G||_F twice: from the engine's observer (node trace) and from the head metrics; float32
    // model, so agreement to 1e-4 relative.
    norms_agree = norms_agree &&
                  std::abs(s.trace.logit_grad_norm - s.head.logit_grad_norm) <= 1e-4 * s.head.logit_grad_norm;
  }
  check(at_multiples, "measured at steps k, 2k, 3k");
  check(in_range, "0 < destroyed_fraction < 1 at every measurement");
  check(traced, "every measurement traced the backward pass down to the first block");
  check(norms_agree, "||G|| from the node trace equals ||G|| from the head metrics");
  check(losses.back() < losses.front(), "the loop trains (loss went down)");

  if (failures == 0)
    std::printf("attach_analysis: all checks passed\n");
  else
    std::printf("attach_analysis: %d check(s) FAILED\n", failures);
  return failures == 0 ? 0 : 1;
}
