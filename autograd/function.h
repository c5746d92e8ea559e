#pragma once
// How a differentiable op is written: compute the output with gs::op:: tensor ops, then
// record() it with its vjp, in the same place:
//
//   Tensor exp(const Tensor& x) {
//     Tensor y = op::exp(x);
//     return record("exp", y, {x}, [y = saved(y)](const Tensor& g) { return grads(op::mul(g, y)); });
//   }
//
// record() is a no-op (returns the output as is) under NoGradGuard or when no input requires
// grad. vjps run under NoGradGuard and must return one gradient per input, each the input's
// shape (the engine checks and names the op otherwise); an undefined Tensor means "no gradient".
#include <initializer_list>
#include <vector>

#include "autograd/node.h"

namespace gs {

// op must be listed in autograd/registry.cpp (throws otherwise: every op needs a gradcheck case).
Tensor record(const char* op, const Tensor& output, std::initializer_list<Tensor> inputs, VjpFn vjp);
Tensor record(const char* op, const Tensor& output, const std::vector<Tensor>& inputs, VjpFn vjp);

// A tensor kept for backward: same data, no autograd link (so saving an op's own output does not
// make a cycle node -> output -> node).
inline Tensor saved(const Tensor& t) {
  if (!t.defined()) return t;
  auto impl = std::make_shared<TensorImpl>(*t.impl());
  impl->autograd.reset();
  return Tensor(std::move(impl));
}

template <class... T>
Grads grads(T&&... g) {
  return Grads{std::forward<T>(g)...};
}

// True when recording would build a node for these inputs.
bool any_requires_grad(std::initializer_list<Tensor> inputs);
bool any_requires_grad(const std::vector<Tensor>& inputs);

}  // namespace gs
