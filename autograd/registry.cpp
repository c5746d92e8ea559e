#include "autograd/registry.h"

#include "tensor/error.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <string>

namespace gs {

namespace {
const std::vector<OpInfo>& builtin_table() {
  // Every differentiable op, by family. Add a line here when you add an op (and a gradcheck case,
  // and a jvp case in tests/test_jvp.cpp).
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
      {"cross_entropy", "loss"}, {"linear_cross_entropy", "loss"},
      // autograd/ops/norm.cpp
      {"layer_norm", "norm"}, {"rms_norm", "norm"},
      // autograd/ops/embedding.cpp
      {"embedding", "embedding"},
      // autograd/ops/index.cpp
      {"concat", "index"}, {"where", "index"}, {"masked_fill", "index"},
  };
  return ops;
}

std::mutex g_mutex;
std::deque<std::string> g_names;  // owns the strings user ops' OpInfo views point into
std::vector<OpInfo> g_user_ops;
}  // namespace

std::vector<OpInfo> builtin_ops() { return builtin_table(); }

std::vector<OpInfo> registered_ops() {
  std::vector<OpInfo> all = builtin_table();
  std::lock_guard lock(g_mutex);
  all.insert(all.end(), g_user_ops.begin(), g_user_ops.end());
  return all;
}

bool is_registered_op(std::string_view name) {
  const auto& ops = builtin_table();
  if (std::any_of(ops.begin(), ops.end(), [&](const OpInfo& o) { return o.name == name; })) return true;
  std::lock_guard lock(g_mutex);
  return std::any_of(g_user_ops.begin(), g_user_ops.end(), [&](const OpInfo& o) { return o.name == name; });
}

void register_op(std::string_view name, std::string_view family) {
  if (name.empty()) fail("register_op", "empty op name");
  if (is_registered_op(name)) return;
  std::lock_guard lock(g_mutex);
  const std::string& n = g_names.emplace_back(name);
  const std::string& f = g_names.emplace_back(family);
  g_user_ops.push_back({n, f});
}

}  // namespace gs
