#include "analysis/monitor.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "analysis/data_parallel.h"
#include "analysis/head_internal.h"
#include "analysis/head_shards.h"
#include "analysis/jacobian_metric.h"
#include "autograd/ops.h"
#include "tensor/ops.h"

namespace gs::analysis {

namespace {

// Singular values of G to report. The exact spectrum (Gram matrix, when min(N, V) is at most
// exact_spectrum_max_side) computes every value anyway: report them all (the spectrum plot then
// reaches 100%); beyond it the randomized top 2 D + 8.
int64_t topk_for(const MonitorOptions& opt, int64_t N, int64_t V, int64_t D) {
  if (opt.topk >= 0) return opt.topk;
  const int64_t side = std::min(N, V);
  return side <= HeadMetricsOptions{}.exact_spectrum_max_side ? side : std::min<int64_t>(side, 2 * D + 8);
}

// The first backbone layer's output, by the node name the backbone gives it
// (Backbone::first_layer_node; none for a backbone without layers).
void find_first_block(BottleneckSample& s, const std::string& first_layer) {
  if (first_layer.empty()) return;
  for (const TraceRow& r : s.trace.rows)
    if (r.op != "(leaf)" && r.name == first_layer) {
      s.first_block_node = r.name;
      s.first_block_relative = r.relative;
      return;
    }
}

// A custom head's head_matrix() and head_input(), checked against what the head says of itself
// (vocab(), validated against the backbone, and rank()) so that a wrong one is named here, and
// not later as a basis or product whose shapes the caller never chose.
void check_head_matrix(const nn::LMHead& head, const Tensor& M) {
  const int64_t V = head.vocab(), k = head.rank();
  if (!M.defined() || M.dim() != 2 || M.size(0) != V || M.size(1) != k)
    fail("measure_bottleneck", "head.head_matrix() is ", M.defined() ? shape_str(M.shape()) : "undefined",
         ", expected [V, k] = [", V, ", ", k, "] (head.vocab() x head.rank()): the matrix M whose product ",
         "head.head_input(h) M^T gives the logits");
}
void check_head_input(const Tensor& H, const Tensor& M) {
  if (H.dim() != 2 || H.size(1) != M.size(1))
    fail("measure_bottleneck", "head.head_input(h) is ", shape_str(H.shape()), " but head.head_matrix() is ",
         shape_str(M.shape()), ": head_input(h) must be [N, k] with the head matrix's k = ", M.size(1));
}

// The leak test needs G as the gradient arriving at a logits node: an unfused forward of the
// head, which holds the [N, V] logits (and G) for the duration of the test.
LeakReport leak_on_logits(const nn::LMHead& head, const Tensor& hidden, const Tensor& targets, const HeadBasis& basis) {
  const Tensor logits = head.forward(hidden);
  const Tensor loss = cross_entropy(logits, targets);
  const Tensor G = grad({loss}, {logits}, {}, /*retain_graph=*/true)[0];
  return leak_test(logits, hidden, G, basis);
}

}  // namespace

BottleneckSample measure_bottleneck(const nn::LanguageModel& model, const nn::Batch& batch, int64_t step,
                                    const MonitorOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  auto since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  BottleneckSample s;
  s.step = step;
  const auto& head = *model.head();
  Tensor hidden = model.hidden(batch.inputs);  // [N, D]
  // batches are made on the CPU; the targets follow the hidden states (as in LanguageModel::loss)
  const Tensor targets = op::to(op::reshape(batch.targets, {-1}), hidden.device());
  const Tensor M = detach(head.head_matrix());
  check_head_matrix(head, M);
  const auto tb = std::chrono::steady_clock::now();
  const HeadBasis basis = head_basis(M);
  s.basis_seconds = since(tb);
  // across ranks: the tokens of every rank's share (the spectrum's size depends on all of them)
  comm::Communicator* ranks = spans_ranks(opt.comm) ? opt.comm : nullptr;
  const int64_t tokens = ranks ? detail::sum_over(*ranks, hidden.size(0)) : hidden.size(0);
  HeadMetricsOptions ho;
  ho.topk = topk_for(opt, tokens, M.size(0), basis.rank);
  ho.comm = ranks;
  if (opt.keep_inputs) {
    // H is recomputed here, apart from the metric paths below, so that metrics recomputed from
    // this copy also catch a wrong H inside either path
    NoGradGuard ng;
    auto copy = [](const Tensor& x) { return op::clone(op::to(x, Device::CPU)); };
    s.inputs = {copy(head.head_input(detach(hidden))), copy(M), copy(targets)};
    check_head_input(s.inputs.H, M);
    if (ranks) {  // the rows the metrics describe: every rank's (W is the same everywhere)
      s.inputs.H = detail::all_rows(*ranks, s.inputs.H);
      s.inputs.targets = detail::all_rows(*ranks, s.inputs.targets);
    }
  }
  // Across ranks each rank's loss is the mean over its own tokens; the figures are the mean over
  // all of them: G's rows scale by n_rank / n_all, the loss is the n-weighted mean.
  // (ho.ignore_index: the losses' default, -100, which the stream uses too)
  const int64_t n_rank = ranks ? detail::count_valid(targets, ho.ignore_index) : 0;
  const int64_t n_all = ranks ? detail::sum_over(*ranks, n_rank) : 0;

  // A bias is outside what the stream's spectrum recomputes (H M^T): such heads take the logits path.
  s.fused = opt.fused && head.fused_loss() && !head.head_bias().defined();
  if (s.fused) {
    // One fused pass: the loss, and G chunk by chunk into the metrics; no [N, V] buffer.
    HeadMetricsStream stream(M, targets, basis, ho);
    LinearCrossEntropyOptions lo;
    lo.on_chunk = stream.on_chunk();
    const Tensor loss = set_name(head.loss(hidden, targets, lo), "loss");
    s.loss = loss.item<double>();
    s.head = stream.finish();
    // this rank's backward pass, relative to this rank's own ||G|| (the whole G in one process)
    s.trace = trace_backward(loss, s.head.run.shard_grad_norm, hidden);
    if (ranks) s.loss = s.head.loss;  // the stream's: every rank's loss sums over n_all
  } else {
    const Tensor logits = head.forward(hidden);  // [N, V]
    const Tensor loss = set_name(cross_entropy(logits, targets), "loss");
    s.loss = loss.item<double>();
    s.trace = trace_backward(loss, logits, hidden);
    const Tensor G = grad({loss}, {logits}, {}, /*retain_graph=*/true)[0];
    Tensor H;
    {
      NoGradGuard ng;
      H = head.head_input(detach(hidden));
    }
    check_head_input(H, M);
    if (!ranks) {
      s.head = grad_metrics(G, H, basis, ho);
      apply_exact_metric(s.head, head, hidden, G);  // the Jacobian figures for a head that is not linear
    } else {
      const Tensor Gs = op::mul(G, static_cast<double>(n_rank) / static_cast<double>(n_all));  // rows of the global G
      s.head = grad_metrics(Gs, H, basis, ho);
      JacobianMetricOptions jo;
      jo.comm = ranks;
      apply_exact_metric(s.head, head, hidden, Gs, jo);
      s.loss = detail::sum_over(*ranks, s.loss * static_cast<double>(n_rank)) / static_cast<double>(n_all);
    }
  }
  s.head.loss = s.loss;
  find_first_block(s, model.backbone()->first_layer_node());
  // the leak test on rank 0's share alone: it is a check of the head's backward, which every
  // rank runs the same way (and it holds [N, V] logits)
  if (opt.leak_test.value_or(!head.builtin()) && is_root(ranks)) {
    const auto tl = std::chrono::steady_clock::now();
    s.leak = leak_on_logits(head, hidden, targets, basis);
    s.has_leak = true;
    s.leak_seconds = since(tl);
  }
  s.seconds = since(t0);
  return s;
}

BottleneckMonitor::BottleneckMonitor(std::shared_ptr<nn::LanguageModel> model, MonitorOptions opt, int64_t total_steps)
    : model_(std::move(model)), opt_(opt), total_(total_steps) {
  if (!model_) fail("BottleneckMonitor", "model is null");
  if (opt_.every < 1) fail("BottleneckMonitor", "every must be >= 1, got ", opt_.every);
}

BottleneckSample& BottleneckMonitor::measure(const nn::Batch& batch, int64_t step) {
  samples_.push_back(measure_bottleneck(*model_, batch, step, opt_));
  if (on_sample) on_sample(samples_.back());
  return samples_.back();
}

void BottleneckMonitor::after_step(int64_t step, const nn::Batch& batch) {
  if (step % opt_.every == 0 || step == total_) measure(batch, step);
}

nn::StepCallback BottleneckMonitor::callback() {
  return [this](const nn::StepInfo& info) { after_step(info.step, info.batch); };
}

}  // namespace gs::analysis
