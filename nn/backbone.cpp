#include "nn/backbone.h"

#include <ostream>

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

void Backbone::validate_input(const Tensor& tokens) const {
  check_tokens(tokens);
  const int64_t T = tokens.size(1);
  if (T > max_seq_len())
    fail(node_name(kind()), "sequence length T = ", T, " exceeds the context length ", max_seq_len());
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

namespace {
std::string valid_backbones() {
  std::string valid;
  for (const auto& n : backbone_names()) valid += (valid.empty() ? "" : ", ") + n;
  return valid;
}
}  // namespace

const char* backbone_name(BackboneKind kind) {
  switch (kind) {
    case BackboneKind::transformer: return "transformer";
    case BackboneKind::gru: return "gru";
    case BackboneKind::ssm: return "ssm";
  }
  fail("backbone_name", "not a BackboneKind: ", static_cast<int>(kind));
}

BackboneKind parse_backbone(const std::string& name, std::string_view where) {
  if (name == "transformer") return BackboneKind::transformer;
  if (name == "gru") return BackboneKind::gru;
  if (name == "ssm") return BackboneKind::ssm;
  fail(where, "unknown backbone '", name, "' (valid: ", valid_backbones(), ")");
}

std::ostream& operator<<(std::ostream& os, BackboneKind kind) { return os << backbone_name(kind); }

std::shared_ptr<Backbone> make_backbone(BackboneKind kind, const BackboneConfig& cfg, Generator& gen) {
  switch (kind) {
    case BackboneKind::transformer: return std::make_shared<Transformer>(cfg, gen);
    case BackboneKind::gru: return std::make_shared<GRU>(cfg, gen);
    case BackboneKind::ssm: return std::make_shared<SSM>(cfg, gen);
  }
  fail("make_backbone", "not a BackboneKind: ", static_cast<int>(kind));
}

std::shared_ptr<Backbone> make_backbone(BackboneKind kind, const BackboneConfig& cfg) {
  Generator gen(cfg.seed);
  return make_backbone(kind, cfg, gen);
}

std::shared_ptr<Backbone> make_backbone(const std::string& name, const BackboneConfig& cfg, Generator& gen) {
  return make_backbone(parse_backbone(name, "make_backbone"), cfg, gen);
}

std::shared_ptr<Backbone> make_backbone(const std::string& name, const BackboneConfig& cfg) {
  Generator gen(cfg.seed);
  return make_backbone(name, cfg, gen);
}

}  // namespace gs::nn
