#pragma once
// Forward-mode differentiation: Jacobian-vector products J v through every registered op.
//
//   std::vector<Tensor> jv = jvp([](const std::vector<Tensor>& x) { return std::vector<Tensor>{tanh(x[0])}; },
//                                {x}, {v});   // jv[0] = (1 - tanh(x)^2) * v
//
// Dual numbers: inside the call every tensor computed from a tangent-carrying input carries its
// own tangent beside its value (AutogradMeta::tangent), filled in by record() with the op's jvp
// as the op runs. One pass of f gives J v for every output, whatever the number of outputs, with
// no graph kept: the counterpart of reverse mode's v^T J, cheap when inputs are few and outputs many.
#include <cstdint>
#include <functional>
#include <vector>

#include "tensor/tensor.h"

namespace gs {

using JvpTarget = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

struct JvpResult {
  std::vector<Tensor> outputs;   // f(inputs), without tangents (any reverse-mode graph kept)
  std::vector<Tensor> tangents;  // J v, one per output: zeros where an output ignores the inputs
};

// Runs f once on the inputs, each carrying its tangent (same shape, dtype and device as the input;
// an undefined tangent means zero, and is the only one an int64 input may have). An input with a
// tangent reaches f as a detached copy (no reverse-mode graph through it); inputs without one, and
// tensors f captures, are used as they are. Errors start with "jvp: " and name the argument:
//   "jvp: 2 inputs but 1 tangents", "jvp: tangent 0 has shape [3] but input 0 has shape [2, 3]",
//   "jvp: op 'my_op' has no forward-mode rule ..." (an op recorded without a jvp, on a tangent).
// Not reentrant: f calling jvp() again throws (the rules are not themselves differentiable, so
// nesting could not give second derivatives anyway).
std::vector<Tensor> jvp(const JvpTarget& f, const std::vector<Tensor>& inputs, const std::vector<Tensor>& tangents);
JvpResult jvp_with_outputs(const JvpTarget& f, const std::vector<Tensor>& inputs, const std::vector<Tensor>& tangents);

// The tangent t carries in the jvp() call running on this thread: undefined (zero) when it carries
// none, and always outside jvp(). For ops that must prepare their jvp during the forward
// (linear_cross_entropy computes its gradients there).
Tensor tangent_of(const Tensor& t);
inline bool has_tangent(const Tensor& t) { return tangent_of(t).defined(); }

namespace detail {
// The number of the jvp() call running on this thread, 0 when none (record()'s switch).
uint64_t forward_level();
// Same data as primal, its own autograd metadata, carrying tangent at the current level.
Tensor with_tangent(const Tensor& primal, const Tensor& tangent);
}  // namespace detail

}  // namespace gs
