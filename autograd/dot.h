#pragma once
// Graph export: the backward graph of a tensor as Graphviz dot text.
//   ops are ellipses "name\nop  [shape]", leaves are boxes "name\n[shape]"; edges point from an
//   input to the node that consumes it (the forward direction). Optional: forward values of small
//   outputs (while the tensors are alive) and the gradient norm each node received in a backward
//   pass, recorded by a GradNormRecorder observer.
#include <map>
#include <string>

#include "autograd/engine.h"

namespace gs {

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
  std::string title;            // graph label
};

std::string to_dot(const Tensor& root, const DotOptions& options = {});

}  // namespace gs
