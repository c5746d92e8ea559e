#include "autograd/function.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "autograd/anomaly.h"
#include "autograd/grad_mode.h"
#include "autograd/jvp.h"
#include "autograd/profiler.h"
#include "autograd/registry.h"
#include "autograd/variable.h"
#include "tensor/convert.h"
#include "tensor/elementwise.h"
#include "tensor/views.h"

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

// Forward mode: the output's tangent from the inputs' tangents (undefined when no input carries
// one). Checked like a vjp's gradients, so a wrong rule is named where it runs.
template <class Inputs>
Tensor output_tangent(const char* op, const Tensor& output, const Inputs& inputs, const JvpRef& jvp) {
  std::vector<Tensor> ts;
  ts.reserve(inputs.size());
  bool any = false;
  for (const Tensor& t : inputs) {
    ts.push_back(tangent_of(t));
    any = any || ts.back().defined();
  }
  if (!any) return Tensor();
  if (!jvp) fail("jvp", "op '", op, "' has no forward-mode rule (pass a jvp to record())");
  Tensor t;
  {
    NoGradGuard ng;  // like a vjp: a rule builds no graph
    t = jvp(ts);
  }
  if (!t.defined()) return t;
  if (t.shape() != output.shape())
    fail("jvp", "the rule of '", op, "' returned a tangent of shape ", shape_str(t.shape()), " for an output of shape ",
         shape_str(output.shape()));
  if (t.dtype() != output.dtype())
    fail("jvp", "the rule of '", op, "' returned a ", dtype_name(t.dtype()), " tangent for a ",
         dtype_name(output.dtype()), " output");
  // a rule written with differentiable ops could hand back a tensor with a graph or a tangent
  return t.impl()->autograd ? saved(t) : t;
}

template <class Inputs>
Tensor record_impl(const char* op, Tensor output, const Inputs& inputs, VjpFn vjp, const JvpRef& jvp) {
  check_registered(op);
  // Outside jvp() this is one thread-local read: reverse mode pays nothing for forward mode.
  const Tensor tangent = detail::forward_level() != 0 ? output_tangent(op, output, inputs, jvp) : Tensor();
  if (!is_grad_enabled() || !any_rg(inputs)) {
    if (is_anomaly_enabled()) check_finite_forward(op, current_name_scope(), output);
    return tangent.defined() ? detail::with_tangent(output, tangent) : output;
  }
  if (Profiler* prof = active_profiler()) prof->on_record(op);
  auto node = std::make_shared<Node>();
  node->op = op;
  const std::string& scope = current_name_scope();
  node->name = scope.empty() ? std::string(op) : scope + "." + op;
  node->seq = g_seq.fetch_add(1, std::memory_order_relaxed);
  node->inputs.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    Edge& e = node->inputs.emplace_back();
    if (!t.defined()) continue;
    if (requires_grad_flag(t)) {
      auto& m = t.impl()->autograd;
      if (m->grad_fn) e.fn = m->grad_fn;
      else e.leaf = m;
    }
    e.shape = t.shape();
    e.dtype = t.dtype();
  }
  node->output_shape = output.shape();
  node->output_dtype = output.dtype();
  node->vjp = std::move(vjp);
  if (is_anomaly_enabled()) check_finite_forward(op, node->name, output);

  // The output gets a TensorImpl of its own: an op may return one of its inputs unchanged
  // (contiguous() of a contiguous tensor), which must not overwrite that input's grad_fn. When
  // this call holds the only handle, nothing else can see the impl, and it is reused.
  std::shared_ptr<TensorImpl> impl;
  if (output.impl_ptr().use_count() == 1) impl = output.impl_ptr();
  else impl = std::make_shared<TensorImpl>(*output.impl());
  auto meta = std::make_shared<AutogradMeta>();
  meta->requires_grad = true;
  meta->grad_fn = node;
  if (tangent.defined()) {
    meta->tangent = tangent;
    meta->tangent_level = detail::forward_level();
  }
  node->output = meta;
  impl->autograd = std::move(meta);
  node->output_value = impl;
  return Tensor(std::move(impl));
}

}  // namespace

Tensor record(const char* op, Tensor output, std::initializer_list<Tensor> inputs, VjpFn vjp) {
  return record_impl(op, std::move(output), inputs, std::move(vjp), JvpRef());
}
Tensor record(const char* op, Tensor output, const std::vector<Tensor>& inputs, VjpFn vjp) {
  return record_impl(op, std::move(output), inputs, std::move(vjp), JvpRef());
}
Tensor record(const char* op, Tensor output, std::initializer_list<Tensor> inputs, VjpFn vjp, JvpRef jvp) {
  return record_impl(op, std::move(output), inputs, std::move(vjp), jvp);
}
Tensor record(const char* op, Tensor output, const std::vector<Tensor>& inputs, VjpFn vjp, JvpRef jvp) {
  return record_impl(op, std::move(output), inputs, std::move(vjp), jvp);
}

Tensor add_tangents(const Tensor& a, const Tensor& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  return op::add(a, b);
}

Tensor broadcast_tangent(const Tensor& t, const Shape& shape) {
  if (!t.defined() || t.shape() == shape) return t;
  return op::contiguous(op::expand(t, shape));
}
bool any_requires_grad(std::initializer_list<Tensor> inputs) { return any_rg(inputs); }
bool any_requires_grad(const std::vector<Tensor>& inputs) { return any_rg(inputs); }

}  // namespace gs
