#pragma once
// The bottleneck measured on a LanguageModel while it trains: at chosen steps, the head metrics of
// the current batch (G from the model's real logits), a node trace of one backward pass, and —
// on request — the leak test. Attach to nn::Trainer through its step callback:
//
//   analysis::BottleneckMonitor mon(model, {.every = 25});
//   mon.measure(first_batch, 0);                 // before training
//   trainer.run(mon.callback());                 // then every 25 steps
#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "analysis/head_bottleneck.h"
#include "analysis/node_trace.h"
#include "nn/data.h"
#include "nn/lm.h"
#include "nn/trainer.h"

namespace gs::analysis {

struct BottleneckSample {
  int64_t step = 0;
  double loss = 0;
  // true: measured inside the head's fused loss (G chunk by chunk from linear_cross_entropy's
  // on_chunk; no [N, V] buffer); false: G from an unfused logits node
  bool fused = false;
  // H = head_input(hidden), W = head_matrix(), G d loss / d logits; for a head that is not linear
  // (nn::LMHead::linear) the destroyed figures are the per-token Jacobian ones (head.metric).
  HeadMetrics head;
  NodeTrace trace;                  // one backward pass, every node
  std::string first_block_node;     // the first backbone layer's output node
  double first_block_relative = 0;  // its gradient norm / ||G||_F
  bool has_leak = false;
  LeakReport leak;
  // With MonitorOptions::keep_inputs, what the head metrics were computed from, copied to the CPU:
  // H = head_input(hidden) [N, k] and W = head_matrix() [V, k] in the model's dtype, targets int64
  // [N]. Copies, not views: training goes on updating W in place. Undefined otherwise.
  struct Inputs {
    Tensor H, W, targets;
  } inputs;
  // wall seconds of the whole measurement, of the basis of W, and of the leak test (the pass and
  // spectrum times are in head.run)
  double seconds = 0, basis_seconds = 0, leak_seconds = 0;
};

struct MonitorOptions {
  int64_t every = 25;     // measure when step % every == 0 (and at the last step)
  // singular values of G to report; -1: all min(N, V) when the spectrum is exact (min(N, V) <=
  // 16384, HeadMetricsOptions::exact_spectrum_max_side), else the top 2 D + 8 (randomized)
  int64_t topk = -1;
  // Also run the leak test at every measurement (it holds [N, V] logits). Unset: on for heads that
  // are not built in (nn::LMHead::builtin), whose head_matrix() the analysis cannot vouch for.
  std::optional<bool> leak_test;
  // Measure inside the head's fused loss when it has one (LMHead::fused_loss, no bias): the loss
  // and G come from one chunked linear_cross_entropy pass, the metrics from its chunks, the node
  // trace from that pass's backward (which has no logits node), the spectrum from G recomputed
  // chunk by chunk. false (or another head): logits, cross_entropy, G from the logits node.
  bool fused = true;
  // Keep the measurement's inputs in BottleneckSample::inputs, so a caller can save them and
  // recompute the metrics outside this library. Off by default: it holds a V x k copy of W per
  // sample.
  bool keep_inputs = false;
  // Data parallelism (analysis/data_parallel.h): the ranks of this communicator each pass their own
  // share of the batch (rank_share), and the head metrics (and loss) are those of all the shards
  // together, as one process measures the whole batch (HeadMetricsOptions::comm); the kept inputs
  // are all the shards' rows. The node trace and the leak test are of each rank's own shard (a
  // backward pass is per rank; the reports show rank 0's), the leak test runs on rank 0 only
  // (has_leak is false elsewhere). Every rank must measure together. null: this process alone.
  comm::Communicator* comm = nullptr;
};

// One measurement on one batch (the model is not changed; no .grad is touched). With opt.comm,
// `batch` is this rank's share.
// Errors ("measure_bottleneck: ..."): a head whose head_matrix() is not [head.vocab(),
// head.rank()], or whose head_input(h) is not [N, k] for that matrix's k (a custom head's methods
// disagreeing, e.g. a transposed matrix); then the head metrics' and trace_backward's own.
BottleneckSample measure_bottleneck(const nn::LanguageModel& model, const nn::Batch& batch, int64_t step,
                                    const MonitorOptions& opt = {});

class BottleneckMonitor {
 public:
  BottleneckMonitor(std::shared_ptr<nn::LanguageModel> model, MonitorOptions opt, int64_t total_steps);
  BottleneckSample& measure(const nn::Batch& batch, int64_t step);
  // After training step `step` (1-based) on `batch`: measures when step % every == 0 and at the
  // last step. callback() wraps it for nn::Trainer::run; other training loops call it directly.
  void after_step(int64_t step, const nn::Batch& batch);
  nn::StepCallback callback();
  const std::vector<BottleneckSample>& samples() const { return samples_; }
  // Called after each measurement (progress display, logging).
  std::function<void(const BottleneckSample&)> on_sample;

 private:
  std::shared_ptr<nn::LanguageModel> model_;
  MonitorOptions opt_;
  int64_t total_;
  std::vector<BottleneckSample> samples_;
};

}  // namespace gs::analysis
