#pragma once
// A node of the backward graph: one differentiable op application with one output.
// Its vjp maps the gradient of the output to one gradient per input (undefined Tensor = none).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "autograd/meta.h"

namespace gs {

using Grads = std::vector<Tensor>;
using VjpFn = std::function<Grads(const Tensor& grad_output)>;

// Where an input's gradient goes: into another node, or into a leaf's .grad; neither when the
// input does not require grad.
// The input's shape and dtype ride along: backward checks every vjp result against them.
struct Edge {
  std::shared_ptr<Node> fn;
  std::shared_ptr<AutogradMeta> leaf;
  Shape shape;
  DType dtype = DType::Float32;
  bool active() const { return fn || leaf; }
};

struct Node {
  Node();
  ~Node();  // iterative: dropping the last handle of a 100k-node chain must not recurse 100k deep
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  static int64_t live_count();  // nodes alive in this process (leak tests)

  std::string op;    // "matmul"
  std::string name;  // "head.logits" (defaults to the name scope + op)
  uint64_t seq = 0;  // creation order; backward runs in decreasing seq among ready nodes
  std::vector<Edge> inputs;  // one per input, in the op's argument order
  Shape output_shape;
  DType output_dtype = DType::Float32;
  VjpFn vjp;  // holds the saved tensors; reset by release()
  bool released = false;
  std::weak_ptr<AutogradMeta> output;  // meta of the output tensor (hooks, retain_grad)
  std::weak_ptr<TensorImpl> output_value;  // the output itself while alive (graph export)

  void release() {
    vjp = nullptr;
    released = true;
  }
};

}  // namespace gs
