#include "nn/backbone.h"

#include "autograd/ops.h"
#include "nn/gru.h"
#include "nn/ssm.h"
#include "nn/transformer.h"
#include "tensor/ops.h"

namespace gs::nn {

void Backbone::check_tokens(const Tensor& tokens) const {
  if (tokens.dtype() != kInt64)
    fail(node_name(kind()), "tokens must be int64, got ", dtype_name(tokens.dtype()));
  if (tokens.dim() != 2 || tokens.numel() == 0)
    fail(node_name(kind()), "tokens must be a non-empty [B, T] tensor, got ", shape_str(tokens.shape()));
}

Tensor time_step(const Tensor& x, int64_t t) { return squeeze(narrow(x, 1, t, 1), 1); }

Tensor stack_time(const std::vector<Tensor>& steps) {
  std::vector<Tensor> cols;
  cols.reserve(steps.size());
  for (const Tensor& s : steps) cols.push_back(unsqueeze(s, 1));
  return concat(cols, 1);
}

const std::vector<std::string>& backbone_names() {
  static const std::vector<std::string> names{"transformer", "gru", "ssm"};
  return names;
}

std::shared_ptr<Backbone> make_backbone(const std::string& name, const BackboneConfig& cfg, Generator& gen) {
  if (name == "transformer") return std::make_shared<Transformer>(cfg, gen);
  if (name == "gru") return std::make_shared<GRU>(cfg, gen);
  if (name == "ssm") return std::make_shared<SSM>(cfg, gen);
  std::string valid;
  for (const auto& n : backbone_names()) valid += (valid.empty() ? "" : ", ") + n;
  fail("make_backbone", "unknown backbone '", name, "' (valid: ", valid, ")");
}

std::shared_ptr<Backbone> make_backbone(const std::string& name, const BackboneConfig& cfg) {
  Generator gen(cfg.seed);
  return make_backbone(name, cfg, gen);
}

}  // namespace gs::nn
