#include "autograd/function.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "autograd/anomaly.h"
#include "autograd/grad_mode.h"
#include "autograd/profiler.h"
#include "autograd/registry.h"
#include "autograd/variable.h"

namespace gs {
namespace {

std::atomic<uint64_t> g_seq{0};

void check_registered(const char* op) {
  // Ops are string literals: remember the pointers already checked, so the table scan runs once.
  thread_local std::vector<const char*> seen;
  if (std::find(seen.begin(), seen.end(), op) != seen.end()) return;
  if (!is_registered_op(op))
    fail(op, "internal: not listed in autograd/registry.cpp (every differentiable op needs a gradcheck case)");
  seen.push_back(op);
}

template <class Inputs>
bool any_rg(const Inputs& inputs) {
  for (const Tensor& t : inputs)
    if (t.defined() && requires_grad_flag(t)) return true;
  return false;
}

template <class Inputs>
Tensor record_impl(const char* op, const Tensor& output, const Inputs& inputs, VjpFn vjp) {
  check_registered(op);
  if (!is_grad_enabled() || !any_rg(inputs)) {
    if (is_anomaly_enabled()) check_finite_forward(op, current_name_scope(), output);
    return output;
  }
  if (Profiler* prof = active_profiler()) prof->on_record(op);
  auto node = std::make_shared<Node>();
  node->op = op;
  const std::string& scope = current_name_scope();
  node->name = scope.empty() ? std::string(op) : scope + "." + op;
  node->seq = g_seq.fetch_add(1, std::memory_order_relaxed);
  node->inputs.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    Edge e;
    if (t.defined() && requires_grad_flag(t)) {
      auto& m = t.impl()->autograd;
      if (m->grad_fn) e.fn = m->grad_fn;
      else e.leaf = m;
    }
    node->inputs.push_back(std::move(e));
    node->input_shapes.push_back(t.defined() ? t.shape() : Shape{});
    node->input_dtypes.push_back(t.defined() ? t.dtype() : DType::Float32);
  }
  node->output_shape = output.shape();
  node->output_dtype = output.dtype();
  node->vjp = std::move(vjp);
  if (is_anomaly_enabled()) check_finite_forward(op, node->name, output);

  // The output gets its own TensorImpl: an op may return one of its inputs unchanged
  // (contiguous() of a contiguous tensor), which must not overwrite that input's grad_fn.
  auto impl = std::make_shared<TensorImpl>(*output.impl());
  auto meta = std::make_shared<AutogradMeta>();
  meta->requires_grad = true;
  meta->grad_fn = node;
  node->output = meta;
  impl->autograd = std::move(meta);
  node->output_value = impl;
  return Tensor(std::move(impl));
}

}  // namespace

Tensor record(const char* op, const Tensor& output, std::initializer_list<Tensor> inputs, VjpFn vjp) {
  return record_impl(op, output, inputs, std::move(vjp));
}
Tensor record(const char* op, const Tensor& output, const std::vector<Tensor>& inputs, VjpFn vjp) {
  return record_impl(op, output, inputs, std::move(vjp));
}
bool any_requires_grad(std::initializer_list<Tensor> inputs) { return any_rg(inputs); }
bool any_requires_grad(const std::vector<Tensor>& inputs) { return any_rg(inputs); }

}  // namespace gs
