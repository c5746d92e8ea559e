#pragma once
// The autograd view of a tensor: free functions, because Tensor itself (tensor/) knows nothing
// of graphs.
#include <optional>
#include <string>

#include "autograd/meta.h"

namespace gs {

// Marks a leaf as requiring grad (returns the same tensor for chaining). Throws on a non-leaf
// or a non-floating tensor.
Tensor requires_grad(Tensor t, bool on = true);
bool requires_grad_flag(const Tensor& t);
bool is_leaf(const Tensor& t);
// Accumulated gradient (undefined when none has arrived yet).
Tensor grad_of(const Tensor& t);
void zero_grad(const Tensor& t);  // resets .grad to undefined
// Replaces t's .grad (t must require grad; g must have t's shape, dtype and device, or be
// undefined). For code that computes a gradient outside backward: data-parallel averaging.
// Only g's values are kept: a g inside a graph is stored detached.
void set_grad(const Tensor& t, const Tensor& g);
// Same data, cut from the graph.
Tensor detach(const Tensor& t);
// Keep .grad on a non-leaf after backward.
void retain_grad(const Tensor& t);
// hook(grad) runs when t's full gradient is known during backward; returning a tensor replaces
// the gradient that flows on (and that is stored in .grad).
void register_hook(const Tensor& t, GradHook hook);
// Names the node that produced t (or the leaf itself): traces read "head.logits", not "matmul".
Tensor set_name(Tensor t, const std::string& name);
std::string name_of(const Tensor& t);
// The node that produced t (null for leaves and tensors outside a graph).
std::shared_ptr<Node> grad_fn(const Tensor& t);

namespace detail {
AutogradMeta& meta(const Tensor& t);  // creates the meta on first use
}

}  // namespace gs
