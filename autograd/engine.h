#pragma once
// The backward engine: iterative topological order (no recursion, so a 100k-node chain is fine),
// gradients summed for reused tensors, saved tensors freed after use unless retain_graph.
#include <vector>

#include "autograd/node.h"

namespace gs {

// What the engine tells an Observer about each node as it runs its vjp.
struct NodeEvent {
  const Node& node;           // op, name, seq, input/output shapes
  const Tensor& grad_output;  // the full incoming gradient of the node's output
};
struct LeafEvent {
  const AutogradMeta& leaf;   // leaf.name, leaf.grad (before this accumulation)
  const Tensor& grad;         // the full gradient arriving at the leaf in this pass
};

// Graph-wide visibility: every node of every backward pass on this thread while registered.
class Observer {
 public:
  virtual ~Observer() = default;
  virtual void on_node(const NodeEvent& e) = 0;
  // After the node's vjp ran: what it sent to each input (undefined: no gradient for that input).
  virtual void on_vjp(const NodeEvent&, const Grads&) {}
  virtual void on_leaf(const LeafEvent&) {}
};
// RAII registration (nested scopes stack; all registered observers are called).
class ObserverScope {
 public:
  explicit ObserverScope(Observer& o);
  ~ObserverScope();
  ObserverScope(const ObserverScope&) = delete;
  ObserverScope& operator=(const ObserverScope&) = delete;

 private:
  Observer* o_;
};

// Backpropagates from `root`. gradient: the upstream gradient dL/droot (undefined means ones,
// allowed only for a one-element root). Leaf gradients accumulate into their .grad.
void backward(const Tensor& root, const Tensor& gradient = Tensor(), bool retain_graph = false);
// Several roots at once (one pass; gradients of shared subgraphs are summed first).
void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& gradients, bool retain_graph = false);

// Functional gradients: d(sum_k <outputs[k], grad_outputs[k]>)/d(inputs[i]), for leaves or
// intermediate tensors, without touching any .grad. An input the outputs do not depend on gets
// an undefined tensor (or throws when allow_unused is false).
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool retain_graph = false,
                         bool allow_unused = false);

}  // namespace gs
