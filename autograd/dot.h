#pragma once
// Graph export: the autograd graph below a tensor as Graphviz dot text, and unique ids for its
// nodes.
//   ops are ellipses "id\nop  [shape]", leaves are boxes "id\n[shape]" (id: graph_ids below);
//   edges point from an input to the node that consumes it, the forward direction (a backward
//   pass sends gradients against the arrows). Optional: forward values of small outputs (while
//   the tensors are alive) and the gradient norm each node received in a backward pass, recorded
//   by a GradNormRecorder observer.
#include <map>
#include <string>
#include <unordered_map>

#include "autograd/engine.h"

namespace gs {

// Names need not be unique (two matmuls in one name scope are both "<scope>.matmul"); these ids
// are. A node or leaf whose name nothing else below the root has keeps it as its id; a name that
// several carry becomes name#1, name#2, ... on every one of them: nodes in creation order (seq),
// then leaves in the order the graph reaches them. An unnamed leaf counts as "leaf". So a plain
// id is always a unique name, and "#k" always marks a repeated one. (A k whose name#k is already
// some other node's own name is skipped.)
struct GraphIds {
  std::unordered_map<const Node*, std::string> nodes;
  std::unordered_map<const AutogradMeta*, std::string> leaves;
  std::string of(const Node* n) const;          // the node's id, or its name if not below the root
  std::string of(const AutogradMeta* m) const;  // the same for a leaf
};
// The ids of every node and leaf root depends on (root itself included, node or leaf).
GraphIds graph_ids(const Tensor& root);

// Records ||incoming gradient|| of every node and leaf during backward (register with ObserverScope).
class GradNormRecorder : public Observer {
 public:
  void on_node(const NodeEvent& e) override;
  void on_leaf(const LeafEvent& e) override;
  std::map<const Node*, double> nodes;
  std::map<const AutogradMeta*, double> leaves;
};

struct DotOptions {
  bool values = false;          // print forward values of outputs with at most max_values elements
  int64_t max_values = 8;
  const GradNormRecorder* grads = nullptr;  // print the recorded gradient norms
  // With grads: a nonzero norm at most this fraction of the largest recorded one is marked
  // "(~0: rounding)": at that size it is float rounding of a gradient whose exact value is 0 (an
  // attention key bias: softmax ignores a constant added to a whole row of scores). 0: no marks.
  double negligible = 0;
  std::string title;            // graph label
};

std::string to_dot(const Tensor& root, const DotOptions& options = {});

}  // namespace gs
