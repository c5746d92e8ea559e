// registered_head: a mixture-of-softmaxes head registered by name from outside the library, then
// built from an LMConfig, trained, saved, reloaded and measured (see README.md).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analysis/monitor.h"
#include "autograd/ops.h"
#include "nn/checkpoint.h"
#include "nn/head_registry.h"
#include "nn/layers.h"
#include "nn/lm.h"
#include "nn/trainer.h"
#include "tensor/ops.h"

namespace {

// z = log sum_k pi_k softmax(tanh(P_k h) W^T), pi = softmax(G h): K components share W [V, D].
class MixtureHead : public gs::nn::LMHead {
 public:
  MixtureHead(int64_t d_model, int64_t vocab, int64_t components, gs::Generator& gen, gs::DType dtype) {
    using namespace gs;
    const double bound = 1.0 / std::sqrt(static_cast<double>(d_model));
    weight = register_parameter("weight", uniform({vocab, d_model}, gen, -bound, bound, dtype));
    gate = register_module("gate", std::make_shared<nn::Linear>(d_model, components, gen, false, dtype));
    for (int64_t k = 0; k < components; ++k)
      proj.push_back(register_module("proj" + std::to_string(k), std::make_shared<nn::Linear>(d_model, d_model, gen, true, dtype)));
  }

  gs::Tensor forward(const gs::Tensor& h) const override {
    using namespace gs;
    check_hidden(h);
    NameScope scope(path());
    const Tensor pi = softmax(gate->forward(h));  // [N, K]
    Tensor p;
    for (size_t k = 0; k < proj.size(); ++k) {
      const Tensor pk = softmax(matmul(tanh(proj[k]->forward(h)), transpose(weight, 0, 1)));  // [N, V]
      const Tensor term = mul(narrow(pi, -1, static_cast<int64_t>(k), 1), pk);
      p = p.defined() ? add(p, term) : term;
    }
    return set_name(log(p), node_name("logits"));
  }
  // The output matrix: what a linear analysis would take as the head (it is not exact here).
  gs::Tensor head_matrix() const override { return weight; }
  gs::Tensor head_input(const gs::Tensor& h) const override { return h; }
  int64_t vocab() const override { return weight.size(0); }
  int64_t d_model() const override { return weight.size(1); }
  int64_t rank() const override { return weight.size(1); }
  std::string kind() const override { return "user_mos"; }

  gs::Tensor weight;
  std::shared_ptr<gs::nn::Linear> gate;
  std::vector<std::shared_ptr<gs::nn::Linear>> proj;
};

int failures = 0;
void check(bool ok, const char* what) {
  std::printf("  [%s] %s\n", ok ? "ok" : "FAILED", what);
  if (!ok) ++failures;
}

}  // namespace

int main() {
  using namespace gs;
  nn::register_head("user_mos", [](const nn::HeadSpec& s, Generator& g) {
    return std::make_shared<MixtureHead>(s.d_model, s.vocab, 2, g, s.dtype);
  });

  nn::LMConfig cfg;
  cfg.set_head("user_mos");
  cfg.vocab = 48;
  cfg.d_model = 8;
  cfg.n_layer = 1;
  cfg.n_head = 2;
  cfg.context = 16;
  cfg.dtype = kFloat64;
  cfg.seed = 3;
  auto model = nn::make_language_model(cfg);
  std::printf("model: head '%s' (%s), %lld parameters\n", cfg.head_label().c_str(), model->head()->kind().c_str(),
              static_cast<long long>(model->parameter_count()));

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
  std::printf("training: loss %.4f -> %.4f over %zu steps\n", losses.front(), losses.back(), losses.size());

  std::printf("checks:\n");
  check(losses.back() < losses.front(), "the model with the registered head trains (loss went down)");

  // A checkpoint records the head by its registered name and loads back into the same head type.
  const std::string path =
      (std::filesystem::temp_directory_path() / ("registered_head_" + std::to_string(::getpid()) + ".safetensors")).string();
  Generator rng(1);
  nn::save_checkpoint(path, *model, std::map<std::string, Tensor>{}, trainer.step(), rng, cfg.to_map());
  const nn::Checkpoint ck = nn::load_checkpoint(path);
  std::filesystem::remove(path);
  check(ck.config.at("head") == "user_mos", "the checkpoint names the head 'user_mos'");
  const auto loaded = nn::load_language_model(ck, nn::checkpoint_model_config(ck));
  Generator data_gen(5);
  const nn::Batch batch = stream.sample(4, 16, data_gen);
  const std::vector<double> a = model->head()->forward(model->hidden(batch.inputs)).to_vector<double>(),
                            b = loaded->head()->forward(loaded->hidden(batch.inputs)).to_vector<double>();
  double diff = a.size() == b.size() ? 0.0 : 1.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) diff = std::max(diff, std::abs(a[i] - b[i]));
  check(diff == 0.0, "the reloaded model gives the same logits, bit for bit");

  // Measured exactly: the head is not linear, so the analysis takes the per-token Jacobian metric,
  // and (not being built in) runs the leak test without being asked.
  const analysis::BottleneckSample s = analysis::measure_bottleneck(*model, batch, trainer.step());
  std::printf("destroyed fraction: %.4f (%s); the column space of W alone would say %.4f\n",
              s.head.destroyed_fraction, s.head.metric.c_str(), s.head.column_space_destroyed_fraction);
  check(s.head.metric == "jacobian", "measured by the per-token Jacobian metric");
  check(s.head.destroyed_fraction > 0 && s.head.destroyed_fraction < 1, "0 < destroyed fraction < 1");
  check(s.has_leak, "the leak test ran by default for a head that is not built in");

  bool refused = false;
  try {
    nn::LMConfig other;
    other.set_head("user_mos3");
  } catch (const Error& e) {
    refused = std::string(e.what()).find("unknown head 'user_mos3'") != std::string::npos &&
              std::string(e.what()).find("user_mos") != std::string::npos;
  }
  check(refused, "an unregistered name is refused, listing the registered ones");

  std::printf("%s\n", failures == 0 ? "all checks passed" : "SOME CHECKS FAILED");
  return failures == 0 ? 0 : 1;
}
