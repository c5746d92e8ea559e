// custom_head: a new LM head type defined outside gradscope, trained inside a LanguageModel, and
// the head metrics run on it.
//
// The head: a full head with a learned per-token temperature and a learned per-token bias,
//   z_v = s_v (h . w_v) + b_v,     s_v = exp(log_scale_v) > 0,   W [V, D], s, b [V].
//
// What head_matrix() must return (the LMHead contract): the V x k matrix M whose column space
// every logit gradient has to pass through on its way back to the hidden states. Here
//   dL/dh = sum_v G_v s_v w_v = G diag(s) W,   so   M = diag(s) W   (head_input(h) = h).
// The bias is not multiplied by h: its gradient (the column sums of G) stays in the head and
// reaches no hidden state, so it does not enter M. Returning the raw weight W would be wrong as
// soon as the scales differ: col(diag(s) W) != col(W), and part of what the analysis would call
// "destroyed" would in fact reach the backbone. The program shows both: with M the leak test
// finds nothing below the head; with W it finds a leak.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

#include "analysis/monitor.h"
#include "analysis/node_trace.h"
#include "autograd/ops.h"
#include "nn/head.h"
#include "nn/lm.h"
#include "nn/trainer.h"
#include "tensor/ops.h"

namespace {

class ScaledBiasHead : public gs::nn::LMHead {
 public:
  ScaledBiasHead(int64_t d_model, int64_t vocab, gs::Generator& gen, gs::DType dtype) {
    using namespace gs;
    // weight like nn::FullHead's scale (uniform in +-1/sqrt(D)); log-scales start spread out
    // (std 0.3) so that the per-token temperatures differ from the first step.
    const double bound = 1.0 / std::sqrt(static_cast<double>(d_model));
    weight = register_parameter("weight", uniform({vocab, d_model}, gen, -bound, bound, dtype));
    log_scale = register_parameter("log_scale", randn({vocab}, gen, dtype, 0.0, 0.3));
    bias = register_parameter("bias", zeros({vocab}, dtype));
  }

  gs::Tensor forward(const gs::Tensor& h) const override {
    using namespace gs;
    check_hidden(h);
    NameScope scope(path());
    Tensor z = matmul(h, transpose(weight, 0, 1));  // [N, V]
    z = mul(z, exp(log_scale));                     // s_v, broadcast over the rows
    z = add(z, bias);                               // b_v
    return set_name(z, node_name("logits"));
  }
  // M = diag(s) W [V, D]: plain tensor ops, no graph (the analysis only reads its values).
  gs::Tensor head_matrix() const override {
    gs::NoGradGuard no_grad;
    return gs::op::mul(weight, gs::op::unsqueeze(gs::op::exp(log_scale), 1));
  }
  gs::Tensor head_input(const gs::Tensor& h) const override { return h; }
  // z = h M^T + b with M = diag(s) W: linear in h, so the column-space metric of M is exact.
  bool linear() const override { return true; }
  int64_t vocab() const override { return weight.size(0); }
  int64_t d_model() const override { return weight.size(1); }
  int64_t rank() const override { return weight.size(1); }
  std::string kind() const override { return "scaled_bias"; }

  gs::Tensor weight, log_scale, bias;
};

int failures = 0;
void check(bool ok, const char* what) {
  std::printf("  [%s] %s\n", ok ? "ok" : "FAILED", what);
  if (!ok) ++failures;
}

double max_abs_diff(const gs::Tensor& a, const gs::Tensor& b) {
  double m = 0;
  for (double d : gs::op::sub(a, b).to_vector<double>()) m = std::max(m, std::abs(d));
  return m;
}

}  // namespace

int main() {
  using namespace gs;
  // A small transformer with V = 48 > D = 8: a head of rank 8 in a 48-dimensional logit space.
  // float64 so that the exactness checks below can use tight tolerances.
  nn::LMConfig cfg;
  cfg.vocab = 48;
  cfg.d_model = 8;
  cfg.n_layer = 1;
  cfg.n_head = 2;
  cfg.context = 16;
  cfg.dtype = kFloat64;
  Generator gen(11);
  auto backbone = nn::make_backbone("transformer", cfg.backbone_config(), gen);
  auto head = std::make_shared<ScaledBiasHead>(cfg.d_model, cfg.vocab, gen, cfg.dtype);
  auto model = std::make_shared<nn::LanguageModel>(backbone, head, cfg);
  const std::vector<double> log_scale_before = head->log_scale.to_vector<double>();

  // Data: x[t] = (x[t-1] + x[t-2]) mod V, a rule the model can start learning in a few steps.
  std::vector<int64_t> tokens{1, 2};
  while (tokens.size() < 4000) tokens.push_back((tokens[tokens.size() - 1] + tokens[tokens.size() - 2]) % cfg.vocab);
  nn::TokenStream stream(tokens, cfg.vocab);

  nn::TrainConfig tc;
  tc.steps = 40;
  tc.batch = 8;
  tc.seq_len = 16;
  tc.lr = 1e-2;
  tc.warmup = 0;
  tc.progress = false;
  nn::Trainer trainer(model, stream, tc);
  const std::vector<double> losses = trainer.run();
  std::printf("training: loss %.4f -> %.4f over %lld steps\n", losses.front(), losses.back(),
              static_cast<long long>(losses.size()));

  std::printf("checks:\n");
  check(losses.back() < losses.front(), "the model with the custom head trains (loss went down)");
  double moved = 0;
  const std::vector<double> log_scale_after = head->log_scale.to_vector<double>();
  for (size_t v = 0; v < log_scale_after.size(); ++v)
    moved = std::max(moved, std::abs(log_scale_after[v] - log_scale_before[v]));
  check(moved > 1e-3, "the per-token scales are learned (they moved)");

  // The interface is consistent: logits == head_input(h) head_matrix()^T + bias.
  Generator data_gen(5);
  const nn::Batch batch = stream.sample(4, 16, data_gen);
  const Tensor hidden = model->hidden(batch.inputs);
  const Tensor logits = head->forward(hidden);
  const Tensor rebuilt = op::add(op::matmul(head->head_input(hidden), op::transpose(head->head_matrix(), 0, 1)),
                                 head->bias);
  const double interface_err = max_abs_diff(logits, rebuilt);
  // float64: the two differ by the order of the multiplications by s_v only (~1e-16 relative).
  check(interface_err < 1e-12, "logits == head_input(h) head_matrix()^T + bias");

  // The head metrics through the same entry point the built-in heads use.
  analysis::MonitorOptions mo;
  mo.leak_test = true;
  const analysis::BottleneckSample s = analysis::measure_bottleneck(*model, batch, trainer.step(), mo);
  std::printf("head metrics at step %lld: loss %.4f, destroyed_fraction %.4f, visible_cosine %.4f, basis rank %lld\n",
              static_cast<long long>(s.step), s.loss, s.head.destroyed_fraction, s.head.visible_cosine,
              static_cast<long long>(s.head.basis_rank));
  std::printf("leak test with M = diag(s) W: destroyed part reaches %.2e, visible part differs by %.2e\n",
              s.leak.destroyed_max, s.leak.visible_max_diff);
  check(s.head.destroyed_fraction > 0 && s.head.destroyed_fraction < 1, "0 < destroyed_fraction < 1");
  check(s.head.basis_rank == cfg.d_model, "basis rank == D");
  // What the basis of M destroys is exactly zero after G diag(s) W; in float64 the relative
  // leftovers are rounding (~1e-15), far below 1e-8.
  check(s.leak.destroyed_max < 1e-8, "nothing the head destroys reaches the backbone");
  check(s.leak.visible_max_diff < 1e-8, "the visible part alone reproduces the full backward");

  // hidden_grad_norm (||G M||_F, from the analysis) against the gradient backprop delivers to h.
  const Tensor loss = cross_entropy(logits, op::reshape(batch.targets, {-1}));
  const std::vector<Tensor> dh = grad({loss}, {hidden}, {}, /*retain_graph=*/true);
  const double backprop_norm = std::sqrt(op::sum(op::mul(dh[0], dh[0])).item<double>());
  std::printf("||dL/dh||: backprop %.10f, analysis ||G M|| %.10f\n", backprop_norm, s.head.hidden_grad_norm);
  check(std::abs(backprop_norm - s.head.hidden_grad_norm) < 1e-9 * backprop_norm,
        "the analysis' ||G M|| equals the gradient backprop delivers to the hidden states");

  // The wrong choice, for contrast: the basis of the raw weight W.
  const Tensor G = grad({loss}, {logits}, {}, /*retain_graph=*/true)[0];
  const analysis::LeakReport wrong = analysis::leak_test(logits, hidden, G, analysis::head_basis(head->weight));
  std::printf("leak test with the raw weight W instead: destroyed part reaches %.2e (at %s)\n", wrong.destroyed_max,
              wrong.destroyed_node.c_str());
  check(wrong.destroyed_max > 1e-3, "with W as head_matrix the 'destroyed' part would leak into the backbone");

  if (failures == 0)
    std::printf("custom_head: all checks passed\n");
  else
    std::printf("custom_head: %d check(s) FAILED\n", failures);
  return failures == 0 ? 0 : 1;
}
