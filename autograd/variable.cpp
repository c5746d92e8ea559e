#include "autograd/variable.h"

#include "autograd/function.h"
#include "autograd/node.h"
#include "tensor/convert.h"

namespace gs {

namespace detail {
AutogradMeta& meta(const Tensor& t) {
  auto& m = t.impl()->autograd;
  if (!m) m = std::make_shared<AutogradMeta>();
  return *m;
}
}  // namespace detail

Tensor requires_grad(Tensor t, bool on) {
  if (!t.defined()) fail("requires_grad", "undefined tensor");
  auto& m = detail::meta(t);
  if (m.grad_fn) fail("requires_grad", "only leaves can be marked; '", m.grad_fn->name, "' is produced by an op");
  if (on && !is_floating(t.dtype()))
    fail("requires_grad", "only floating-point tensors can require grad, got ", dtype_name(t.dtype()));
  m.requires_grad = on;
  return t;
}

bool requires_grad_flag(const Tensor& t) {
  const auto& m = t.impl()->autograd;
  return m && m->requires_grad;
}

bool is_leaf(const Tensor& t) {
  const auto& m = t.impl()->autograd;
  return !m || !m->grad_fn;
}

Tensor grad_of(const Tensor& t) {
  const auto& m = t.impl()->autograd;
  return m ? m->grad : Tensor();
}

void zero_grad(const Tensor& t) {
  if (auto& m = t.impl()->autograd) m->grad = Tensor();
}

void set_grad(const Tensor& t, const Tensor& g) {
  if (!requires_grad_flag(t)) fail("set_grad", "tensor ", shape_str(t.shape()), " does not require grad");
  if (g.defined() && (g.shape() != t.shape() || g.dtype() != t.dtype() || g.device() != t.device()))
    fail("set_grad", "gradient ", dtype_name(g.dtype()), " ", shape_str(g.shape()), " on ", device_name(g.device()),
         " for a tensor ", dtype_name(t.dtype()), " ", shape_str(t.shape()), " on ", device_name(t.device()));
  // a g that carries a graph (or is t itself) would tie .grad to a node that reaches t again: a
  // reference cycle; keep the values only, as backward's own gradients are
  t.impl()->autograd->grad = g.defined() && g.impl()->autograd ? saved(g) : g;
}

Tensor detach(const Tensor& t) { return op::alias(t); }

void retain_grad(const Tensor& t) {
  auto& m = detail::meta(t);
  if (!m.requires_grad) fail("retain_grad", "tensor does not require grad");
  if (m.grad_fn) m.retains_grad = true;  // leaves keep .grad anyway
}

void register_hook(const Tensor& t, GradHook hook) {
  auto& m = detail::meta(t);
  if (!m.requires_grad) fail("register_hook", "tensor '", name_of(t), "' does not require grad");
  m.hooks.push_back(std::move(hook));
}

Tensor set_name(Tensor t, const std::string& name) {
  auto& m = detail::meta(t);
  m.name = name;
  if (m.grad_fn) m.grad_fn->name = name;
  return t;
}

std::string name_of(const Tensor& t) {
  const auto& m = t.impl()->autograd;
  if (!m) return "";
  if (m->grad_fn) return m->grad_fn->name;
  return m->name;
}

std::shared_ptr<Node> grad_fn(const Tensor& t) {
  const auto& m = t.impl()->autograd;
  return m ? m->grad_fn : nullptr;
}

}  // namespace gs
