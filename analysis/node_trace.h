#pragma once
// Every node of a backward pass, built on the engine's observer and its
// explicit-gradient, functional backward — nothing here is special to one model:
//
//   trace_backward   one backward pass from the loss: for every node and leaf, its name, op,
//                    shape, the norm of the gradient it receives and that norm relative to
//                    ||G||_F, the gradient arriving at the logits.
//   leak_test        backpropagate only the destroyed part G - G Q Q^T from the logits and
//                    report the largest gradient that reaches any node below the head, relative
//                    to that node's full gradient (~0: what the head destroys never comes back);
//                    backpropagate only the visible part G Q Q^T and report the largest relative
//                    difference from the full backward at any node below the head (~0).
// "Below the head" means the nodes and leaves the hidden states depend on (the backbone).
// Both leave every .grad untouched (they use gs::grad(), which accumulates nothing), and keep the
// graph (retain_graph) so the caller can run more passes.
#include <string>
#include <vector>

#include "analysis/head_bottleneck.h"
#include "tensor/tensor.h"

namespace gs::analysis {

struct TraceRow {
  std::string name, op;  // op is "(leaf)" for parameters
  // unique within the trace: the name, or name#k when several nodes or leaves share it (k = 1, 2,
  // ... in creation order; autograd/dot.h's graph_ids, the same ids `gradscope graph` draws)
  std::string id;
  Shape shape;
  double grad_norm = 0;
  double relative = 0;   // grad_norm / ||G||_F
  bool below_head = false;
};

struct NodeTrace {
  double logit_grad_norm = 0;  // ||G||_F: the gradient arriving at the logits node
  std::vector<TraceRow> rows;  // in backward order (newest node first), leaves where they finish
};

// loss: scalar; logits: the [N, V] logits tensor the loss was computed from; hidden: the hidden
// states entering the head (marks which rows are below the head; may be undefined).
// Errors ("trace_backward: ..."): a loss that does not require grad or is not a scalar; logits
// that the loss does not depend on ("logits [..] is not on the path of loss"); hidden that the
// logits do not depend on ("hidden [..] is not below logits [..]"), which also catches the two
// passed in each other's place.
NodeTrace trace_backward(const Tensor& loss, const Tensor& logits, const Tensor& hidden = Tensor());
// The same for a loss with no logits node (a fused linear_cross_entropy): relative to the given
// ||G||_F (from the pass's own chunks, e.g. HeadMetrics::logit_grad_norm). hidden is required,
// and must be on the path of loss.
NodeTrace trace_backward(const Tensor& loss, double logit_grad_norm, const Tensor& hidden);

struct LeakReport {
  double destroyed_max = 0;     // max over nodes below the head of ||g_destroyed|| / ||g_full||
  double visible_max_diff = 0;  // max over nodes below the head of ||g_visible - g_full|| / ||g_full||
  std::string destroyed_node, visible_node;  // where each maximum occurred (graph_ids(logits)'s id)
  // nodes and leaves below the head compared: those whose full gradient is above sqrt(machine
  // epsilon) of the largest one there (a gradient that is exactly 0 in exact arithmetic, such as
  // an attention key bias's, is rounding noise and has no meaningful relative error)
  int64_t nodes_checked = 0;
};

// G: the exact logit gradient [N, V] (dL/dlogits); basis: head_basis(head matrix).
LeakReport leak_test(const Tensor& logits, const Tensor& hidden, const Tensor& G, const HeadBasis& basis);

}  // namespace gs::analysis
