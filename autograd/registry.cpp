#include "autograd/registry.h"

#include <algorithm>

namespace gs {

const std::vector<OpInfo>& registered_ops() {
  // Every differentiable op, by family. Add a line here when you add an op (and a gradcheck case).
  static const std::vector<OpInfo> ops = {
      // autograd/ops/elementwise.cpp
      {"add", "elementwise"}, {"sub", "elementwise"}, {"mul", "elementwise"}, {"div", "elementwise"},
      {"pow", "elementwise"}, {"neg", "elementwise"}, {"exp", "elementwise"}, {"log", "elementwise"},
      {"sqrt", "elementwise"}, {"tanh", "elementwise"}, {"sigmoid", "elementwise"}, {"relu", "elementwise"},
      {"gelu", "elementwise"}, {"silu", "elementwise"}, {"abs", "elementwise"}, {"maximum", "elementwise"},
      {"minimum", "elementwise"},
      // autograd/ops/shape.cpp
      {"reshape", "shape"}, {"transpose", "shape"}, {"permute", "shape"}, {"narrow", "shape"},
      {"slice", "shape"}, {"expand", "shape"}, {"squeeze", "shape"}, {"unsqueeze", "shape"},
      {"contiguous", "shape"}, {"to_dtype", "shape"},
      // autograd/ops/linalg.cpp
      {"matmul", "linalg"},
      // autograd/ops/reduce.cpp
      {"sum", "reduce"}, {"mean", "reduce"}, {"max", "reduce"},
      // autograd/ops/softmax.cpp
      {"softmax", "softmax"}, {"log_softmax", "softmax"},
      // autograd/ops/loss.cpp
      {"cross_entropy", "loss"},
      // autograd/ops/norm.cpp
      {"layer_norm", "norm"}, {"rms_norm", "norm"},
      // autograd/ops/embedding.cpp
      {"embedding", "embedding"},
      // autograd/ops/index.cpp
      {"concat", "index"}, {"where", "index"}, {"masked_fill", "index"},
  };
  return ops;
}

bool is_registered_op(std::string_view name) {
  const auto& ops = registered_ops();
  return std::any_of(ops.begin(), ops.end(), [&](const OpInfo& o) { return o.name == name; });
}

}  // namespace gs
