#include "nn/module.h"

#include <set>

#include "autograd/variable.h"
#include "tensor/convert.h"

namespace gs::nn {
namespace {
void check_name(const char* what, const std::string& name) {
  if (name.empty() || name.find('.') != std::string::npos)
    fail(what, "name '", name, "' must be non-empty and contain no '.'");
}
}  // namespace

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  check_name("register_parameter", name);
  for (const auto& [n, _] : params_)
    if (n == name) fail("register_parameter", "'", node_name(name), "' registered twice");
  requires_grad(t);
  set_name(t, node_name(name));
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_name("register_buffer", name);
  buffers_.emplace_back(name, t);
  return t;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  check_name("register_module", name);
  if (!m) fail("register_module", "'", node_name(name), "' is null");
  for (const auto& [n, _] : children_)
    if (n == name) fail("register_module", "'", node_name(name), "' registered twice");
  m->set_path(node_name(name));
  children_.emplace_back(name, std::move(m));
}

// Re-roots a subtree: parameters keep their leaf names in step with the module path.
void Module::set_path(const std::string& path) {
  path_ = path;
  for (auto& [n, t] : params_) set_name(t, node_name(n));
  for (auto& [n, c] : children_) c->set_path(node_name(n));
}

void Module::collect(const std::string& prefix, bool params, NamedTensors& out) const {
  for (const auto& [n, t] : params ? params_ : buffers_) out.emplace_back(prefix + n, t);
  for (const auto& [n, c] : children_) c->collect(prefix + n + ".", params, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, out);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters()) out.push_back(t);
  return out;
}

std::map<std::string, Tensor> Module::state() const {
  std::map<std::string, Tensor> out;
  for (auto& [n, t] : named_parameters()) out.emplace(n, t);
  for (auto& [n, t] : named_buffers()) out.emplace(n, t);
  return out;
}

void Module::load_state(const std::map<std::string, Tensor>& state, bool strict) {
  auto mine = this->state();
  if (strict) {
    std::string missing, extra;
    for (const auto& [n, _] : mine)
      if (!state.count(n)) missing += (missing.empty() ? "" : ", ") + n;
    for (const auto& [n, _] : state)
      if (!mine.count(n)) extra += (extra.empty() ? "" : ", ") + n;
    if (!missing.empty() || !extra.empty())
      fail("load_state", (missing.empty() ? "" : "missing: " + missing), (!missing.empty() && !extra.empty() ? "; " : ""),
           (extra.empty() ? "" : "unexpected: " + extra));
  }
  // check every shape before writing anything: a failed load leaves the module unchanged
  for (const auto& [n, src] : state) {
    auto it = mine.find(n);
    if (it == mine.end()) continue;
    if (it->second.shape() != src.shape())
      fail("load_state", "'", n, "' has shape ", shape_str(src.shape()), ", the module expects ",
           shape_str(it->second.shape()));
  }
  for (const auto& [n, src] : state) {
    auto it = mine.find(n);
    if (it != mine.end()) op::copy_(it->second, op::to(src, it->second.device()));
  }
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (auto& [_, t] : named_parameters()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [_, c] : children_) c->train(on);
}

void Module::zero_grad() {
  for (auto& [_, t] : named_parameters()) gs::zero_grad(t);
}

}  // namespace gs::nn
