#include "analysis/monitor.h"

#include <string_view>

#include "autograd/ops.h"
#include "tensor/ops.h"

namespace gs::analysis {

BottleneckSample measure_bottleneck(const nn::LanguageModel& model, const nn::Batch& batch, int64_t step,
                                    const MonitorOptions& opt) {
  BottleneckSample s;
  s.step = step;
  const auto& head = *model.head();
  Tensor hidden = model.hidden(batch.inputs);                 // [N, D]
  Tensor logits = head.forward(hidden);                       // [N, V]
  // batches are made on the CPU; the targets follow the logits (as in LanguageModel::loss)
  Tensor targets = op::to(op::reshape(batch.targets, {-1}), logits.device());
  Tensor loss = set_name(cross_entropy(logits, targets), "loss");
  s.loss = loss.item<double>();
  s.trace = trace_backward(loss, logits, hidden);
  const Tensor G = grad({loss}, {logits}, {}, /*retain_graph=*/true)[0];

  const HeadBasis basis = head_basis(head.head_matrix());
  Tensor H;
  {
    NoGradGuard ng;
    H = head.head_input(detach(hidden));
  }
  HeadMetricsOptions ho;
  const int64_t D = basis.rank, N = G.size(0), V = G.size(1);
  ho.topk = opt.topk >= 0 ? opt.topk : std::min<int64_t>(std::min(N, V), 2 * D + 8);
  // the spectrum is exact (Gram matrix) by default whenever min(N, V) <= 16384
  s.head = grad_metrics(G, H, basis, ho);
  s.head.loss = s.loss;

  // the first backbone layer's output: "...blocks.0" (transformer) or "...layers.0" (gru, ssm),
  // the whole name or its last dotted parts
  auto is_first_layer = [](std::string_view name) {
    for (std::string_view tail : {"blocks.0", "layers.0"})
      if (name.ends_with(tail) && (name.size() == tail.size() || name[name.size() - tail.size() - 1] == '.'))
        return true;
    return false;
  };
  for (const TraceRow& r : s.trace.rows)
    if (r.op != "(leaf)" && is_first_layer(r.name)) {
      s.first_block_node = r.name;
      s.first_block_relative = r.relative;
      break;
    }
  if (opt.leak_test) {
    s.leak = leak_test(logits, hidden, G, basis);
    s.has_leak = true;
  }
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
