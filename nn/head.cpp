#include "nn/head.h"

#include <cmath>
#include <ostream>

#include "autograd/ops.h"
#include "nn/head_registry.h"
#include "nn/heads_nonlinear.h"
#include "nn/init.h"
#include "tensor/ops.h"

namespace gs::nn {

void LMHead::check_hidden(const Tensor& h) const {
  if (h.dim() < 1 || h.shape().back() != d_model())
    fail(node_name(kind() + "_head"), "hidden ", shape_str(h.shape()), " does not end in d_model = ", d_model());
}

Tensor LMHead::loss(const Tensor& h, const Tensor& targets, const LinearCrossEntropyOptions& opt) const {
  if (opt.on_chunk)
    fail(node_name(kind() + "_head"), "on_chunk needs a fused loss; this head's loss materialises the logits "
         "(take the logits node's gradient instead)");
  const Tensor logits = forward(h);
  NameScope scope(path());
  return cross_entropy(logits, targets, opt.ignore_index, opt.reduction);
}

FullHead::FullHead(int64_t d, int64_t v, Generator& gen, bool has_bias, DType dtype) {
  if (d <= 0 || v <= 0) fail("FullHead", "sizes must be positive, got d_model = ", d, ", vocab = ", v);
  weight = register_parameter("weight", init::kaiming_uniform({v, d}, gen, 1.0 / std::sqrt(3.0), dtype));
  if (has_bias) bias = register_parameter("bias", zeros({v}, dtype));
}

FullHead::FullHead(const Tensor& tied_weight, bool has_bias) : weight(tied_weight), tied_(true) {
  if (!tied_weight.defined() || tied_weight.dim() != 2 || !is_floating(tied_weight.dtype()))
    fail("FullHead", "a tied weight must be a floating [V, D] tensor, got ",
         tied_weight.defined() ? shape_str(tied_weight.shape()) : std::string("an undefined tensor"));
  if (has_bias) bias = register_parameter("bias", zeros({tied_weight.size(0)}, tied_weight.dtype()));
}

Tensor FullHead::forward(const Tensor& h) const {
  check_hidden(h);
  NameScope scope(path());
  Tensor z = matmul(h, transpose(weight, 0, 1));
  if (bias.defined()) z = add(z, bias);
  return set_name(z, node_name("logits"));
}

Tensor FullHead::loss(const Tensor& h, const Tensor& targets, const LinearCrossEntropyOptions& opt) const {
  check_hidden(h);
  NameScope scope(path());
  return linear_cross_entropy(h, weight, bias, targets, opt);
}

FactorizedHead::FactorizedHead(int64_t d, int64_t r, int64_t v, Generator& gen, DType dtype) {
  if (d <= 0 || r <= 0 || v <= 0)
    fail("FactorizedHead", "sizes must be positive, got d_model = ", d, ", rank = ", r, ", vocab = ", v);
  down = register_module("down", std::make_shared<Linear>(d, r, gen, false, dtype));
  up = register_module("up", std::make_shared<Linear>(r, v, gen, false, dtype));
}

Tensor FactorizedHead::forward(const Tensor& h) const {
  check_hidden(h);
  // up's output is the logits: rename its node from "<path>.up" to "<path>.logits"
  return set_name(up->forward(down->forward(h)), node_name("logits"));
}

Tensor FactorizedHead::loss(const Tensor& h, const Tensor& targets, const LinearCrossEntropyOptions& opt) const {
  check_hidden(h);
  const Tensor a = down->forward(h);  // [N, r], node "<path>.down" (outside this scope: down names itself)
  NameScope scope(path());
  return linear_cross_entropy(a, up->weight, up->bias, targets, opt);
}

const std::vector<std::string>& head_names() {
  static const std::vector<std::string> names{"full", "factorized", "mos", "mlp", "sigsoftmax"};
  return names;
}

const char* head_name(HeadKind kind) {
  switch (kind) {
    case HeadKind::full: return "full";
    case HeadKind::factorized: return "factorized";
    case HeadKind::mos: return "mos";
    case HeadKind::mlp: return "mlp";
    case HeadKind::sigsoftmax: return "sigsoftmax";
    case HeadKind::registered: return "registered";
  }
  fail("head_name", "not a HeadKind: ", static_cast<int>(kind));
}

HeadKind parse_head(const std::string& name, std::string_view where) {
  if (name == "full") return HeadKind::full;
  if (name == "factorized") return HeadKind::factorized;
  if (name == "mos") return HeadKind::mos;
  if (name == "mlp") return HeadKind::mlp;
  if (name == "sigsoftmax") return HeadKind::sigsoftmax;
  if (is_registered_head(name)) return HeadKind::registered;
  std::string valid;
  for (const auto& n : head_names()) valid += (valid.empty() ? "" : ", ") + n;
  for (const auto& n : registered_head_names()) valid += ", " + n;
  fail(where, "unknown head '", name, "' (valid: ", valid, ")");
}

std::ostream& operator<<(std::ostream& os, HeadKind kind) { return os << head_name(kind); }

std::shared_ptr<LMHead> make_head(HeadKind kind, int64_t d, int64_t v, int64_t rank, Generator& gen, DType dtype,
                                  int64_t mixtures) {
  switch (kind) {
    case HeadKind::full: return std::make_shared<FullHead>(d, v, gen, false, dtype);
    case HeadKind::factorized: return std::make_shared<FactorizedHead>(d, rank, v, gen, dtype);
    case HeadKind::mos: return std::make_shared<MixtureOfSoftmaxesHead>(d, v, mixtures, gen, dtype);
    case HeadKind::mlp: return std::make_shared<MlpHead>(d, v, gen, dtype);
    case HeadKind::sigsoftmax: return std::make_shared<SigsoftmaxHead>(d, v, gen, dtype);
    case HeadKind::registered: fail("make_head", "a registered head is built by name (make_head(name, ...))");
  }
  fail("make_head", "not a HeadKind: ", static_cast<int>(kind));
}

std::shared_ptr<LMHead> make_head(const std::string& name, int64_t d, int64_t v, int64_t rank, Generator& gen,
                                  DType dtype) {
  const HeadKind kind = parse_head(name, "make_head");
  if (kind == HeadKind::registered) return make_registered_head(name, {d, v, rank, dtype}, gen);
  return make_head(kind, d, v, rank, gen, dtype);
}

}  // namespace gs::nn
