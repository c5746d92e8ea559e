#pragma once
// How a differentiable op is written: compute the output with gs::op:: tensor ops, then
// record() it with its vjp and its jvp, in the same place:
//
//   Tensor exp(const Tensor& x) {
//     Tensor y = op::exp(x);
//     return record("exp", y, {x}, [y = saved(y)](const Tensor& g) { return grads(op::mul(g, y)); },
//                   [&](const std::vector<Tensor>& t) { return op::mul(t[0], y); });
//   }
//
// record() is a no-op (returns the output as is) under NoGradGuard or when no input requires
// grad. vjps run under NoGradGuard and must return one gradient per input, each the input's
// shape (the engine checks and names the op otherwise); an undefined Tensor means "no gradient".
//
// The jvp (forward mode, autograd/jvp.h) maps the input tangents, one per input (undefined: zero,
// e.g. for an int64 input), to the output's tangent, of the output's shape and dtype (undefined:
// zero). record() calls it at once, only inside jvp() and only when some input carries a tangent,
// so it may capture by reference and costs nothing otherwise. Forward mode ignores NoGradGuard
// (that switch is about the reverse-mode graph); detach() cuts a tangent. An op recorded without a
// jvp works everywhere except on tangents inside jvp(), where record() throws naming it.
#include <initializer_list>
#include <memory>
#include <type_traits>
#include <vector>

#include "autograd/node.h"

namespace gs {

// A jvp as record() receives it: a non-owning reference to any callable
// Tensor(const std::vector<Tensor>& input_tangents). Non-owning because record() runs it before
// returning or not at all: a lambda passed in costs no allocation when forward mode is off.
class JvpRef {
 public:
  JvpRef() = default;  // no forward-mode rule
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, JvpRef> &&
                                              std::is_invocable_r_v<Tensor, F&, const std::vector<Tensor>&>>>
  JvpRef(F&& f)  // implicit, so that an op passes its lambda directly
      : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* obj, const std::vector<Tensor>& t) -> Tensor {
          return (*static_cast<std::remove_reference_t<F>*>(obj))(t);
        }) {}
  explicit operator bool() const { return call_ != nullptr; }
  Tensor operator()(const std::vector<Tensor>& tangents) const { return call_(obj_, tangents); }

 private:
  void* obj_ = nullptr;
  Tensor (*call_)(void*, const std::vector<Tensor>&) = nullptr;
};

// op must be listed in autograd/registry.cpp (throws otherwise: every op needs a gradcheck case).
// output is taken by value: when the caller hands over the only handle (a temporary, or
// std::move), the result reuses its TensorImpl instead of copying it; an output that something
// else still holds (one of the inputs returned as is) gets a new TensorImpl of its own.
// A variable passed with std::move must not appear in any other argument, captures included:
// the order in which arguments are evaluated is unspecified, and a [&] jvp runs after the move.
// Save what they need first: `const Shape out = y.shape(); Tensor ys = saved(y);
// return record("op", std::move(y), {x}, [ys](const Tensor& g) {...}, [&](auto& t) {... out ...});`
Tensor record(const char* op, Tensor output, std::initializer_list<Tensor> inputs, VjpFn vjp);
Tensor record(const char* op, Tensor output, const std::vector<Tensor>& inputs, VjpFn vjp);
// The same with a forward-mode rule (every built-in op has one).
Tensor record(const char* op, Tensor output, std::initializer_list<Tensor> inputs, VjpFn vjp, JvpRef jvp);
Tensor record(const char* op, Tensor output, const std::vector<Tensor>& inputs, VjpFn vjp, JvpRef jvp);

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

// For jvps, where an undefined tangent is zero: a + b (undefined only when both are), and a
// tangent broadcast to the output's shape the way the forward broadcast its input (a no-op when
// it already has that shape).
Tensor add_tangents(const Tensor& a, const Tensor& b);
Tensor broadcast_tangent(const Tensor& t, const Shape& shape);

// True when recording would build a node for these inputs.
bool any_requires_grad(std::initializer_list<Tensor> inputs);
bool any_requires_grad(const std::vector<Tensor>& inputs);

}  // namespace gs
