#include "analysis/node_trace.h"

#include <cmath>
#include <map>
#include <set>

#include "autograd/dot.h"
#include "autograd/ops.h"
#include "tensor/ops.h"

namespace gs::analysis {
namespace {

double norm(const Tensor& t) {
  NoGradGuard ng;
  Tensor t64 = op::to(t, kFloat64);
  return std::sqrt(op::sum(op::mul(t64, t64)).item<double>());
}

// Nodes and leaves that `t` depends on.
struct Subgraph {
  std::set<const Node*> nodes;
  std::set<const AutogradMeta*> leaves;
};
Subgraph below(const Tensor& t) {
  Subgraph s;
  if (!t.defined()) return s;
  if (auto fn = grad_fn(t)) {
    std::vector<const Node*> stack{fn.get()};
    while (!stack.empty()) {
      const Node* n = stack.back();
      stack.pop_back();
      if (!s.nodes.insert(n).second) continue;
      for (const Edge& e : n->inputs) {
        if (e.fn) stack.push_back(e.fn.get());
        else if (e.leaf) s.leaves.insert(e.leaf.get());
      }
    }
  } else if (t.impl()->autograd) {
    s.leaves.insert(t.impl()->autograd.get());
  }
  return s;
}

// Whether t is one of s's nodes or leaves (a tensor whose grad_fn or autograd meta is there).
bool contains(const Subgraph& s, const Tensor& t) {
  if (!t.defined()) return false;
  if (auto fn = grad_fn(t)) return s.nodes.count(fn.get()) > 0;
  return t.impl()->autograd && s.leaves.count(t.impl()->autograd.get()) > 0;
}

// Collects the gradient each node/leaf of a subgraph receives during one backward pass.
struct Collect : Observer {
  const Subgraph* only = nullptr;  // null: every node
  const GraphIds* ids = nullptr;   // null: a row's id is its name
  std::vector<TraceRow> rows;
  std::vector<const void*> keys;        // each row's Node* or AutogradMeta*
  std::map<const void*, Tensor> grads;  // keyed by Node* or AutogradMeta*
  bool keep = false;
  void on_node(const NodeEvent& e) override {
    if (only && !only->nodes.count(&e.node)) return;
    if (keep) grads[&e.node] = e.grad_output;
    const std::string id = ids ? ids->of(&e.node) : e.node.name;
    rows.push_back({e.node.name, e.node.op, id, e.node.output_shape, norm(e.grad_output), 0, false});
    keys.push_back(&e.node);
  }
  void on_leaf(const LeafEvent& e) override {
    if (only && !only->leaves.count(&e.leaf)) return;
    if (keep) grads[&e.leaf] = e.grad;
    const std::string id = ids ? ids->of(&e.leaf) : e.leaf.name;
    rows.push_back({e.leaf.name, "(leaf)", id, e.grad.shape(), norm(e.grad), 0, false});
    keys.push_back(&e.leaf);
  }
};

std::map<const void*, Tensor> backward_below(const Tensor& logits, const Tensor& upstream, const Subgraph& sub,
                                             std::map<const void*, std::string>& names) {
  Collect c;
  c.only = &sub;
  c.keep = true;
  {
    ObserverScope scope(c);
    grad({logits}, {logits}, {op::to(upstream, logits.dtype())}, /*retain_graph=*/true);
  }
  if (names.empty()) {  // once: the unique ids, as the trace shows them
    const GraphIds ids = graph_ids(logits);
    for (const Node* n : sub.nodes) names[n] = ids.of(n);
    for (const AutogradMeta* m : sub.leaves) names[m] = ids.of(m);
  }
  return c.grads;
}

}  // namespace

namespace {

void check_loss(const Tensor& loss) {
  if (!loss.defined()) fail("trace_backward", "loss is an undefined tensor");
  if (!requires_grad_flag(loss)) fail("trace_backward", "the loss does not require grad");
  if (loss.numel() != 1) fail("trace_backward", "the loss must have one element, got ", shape_str(loss.shape()));
}

std::string shape_of(const Tensor& t) { return t.defined() ? shape_str(t.shape()) : std::string("(undefined)"); }

// One backward pass from the loss, observed; grads_of: what grad() is asked for (the pass runs
// over every node either way). Rows' relative is left 0; below_head is marked from hidden.
// `key` (a Node* or AutogradMeta*, may be null): its row's grad_norm goes to *key_norm.
NodeTrace observed_backward(const Tensor& loss, const Tensor& grads_of, const Tensor& hidden, const void* key = nullptr,
                            double* key_norm = nullptr) {
  const Subgraph sub = below(hidden);
  const GraphIds ids = graph_ids(loss);
  Collect c;
  c.ids = &ids;
  {
    ObserverScope scope(c);
    grad({loss}, {grads_of}, {}, /*retain_graph=*/true);
  }
  NodeTrace t;
  t.rows = std::move(c.rows);
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const void* k = c.keys[i];
    t.rows[i].below_head = sub.nodes.count(static_cast<const Node*>(k)) > 0 ||
                           sub.leaves.count(static_cast<const AutogradMeta*>(k)) > 0;
    if (key && k == key && key_norm) *key_norm = t.rows[i].grad_norm;
  }
  return t;
}

void set_relative(NodeTrace& t) {
  for (TraceRow& r : t.rows) r.relative = t.logit_grad_norm > 0 ? r.grad_norm / t.logit_grad_norm : 0;
}

}  // namespace

NodeTrace trace_backward(const Tensor& loss, const Tensor& logits, const Tensor& hidden) {
  check_loss(loss);
  // Checked here, before grad() would refuse a tensor off the path in its own terms.
  if (!contains(below(loss), logits))
    fail("trace_backward", "logits ", shape_of(logits), " is not on the path of loss (the loss does not depend on ",
         "it through the graph): pass the logits the loss was computed from");
  if (hidden.defined()) {
    const Subgraph under_logits = below(logits);
    if (!contains(under_logits, hidden)) {
      if (contains(below(hidden), logits))
        fail("trace_backward", "hidden ", shape_of(hidden), " is not below logits ", shape_of(logits),
             ": the logits argument is computed from the hidden one; were logits and hidden passed in each ",
             "other's place? (trace_backward(loss, logits, hidden))");
      fail("trace_backward", "hidden ", shape_of(hidden), " is not below logits ", shape_of(logits),
           " (the logits do not depend on it through the graph): pass the hidden states the head maps to ",
           "these logits, or no hidden");
    }
  }
  const auto fn = grad_fn(logits);
  const void* key = fn ? static_cast<const void*>(fn.get()) : static_cast<const void*>(logits.impl()->autograd.get());
  double logit_grad_norm = 0;
  NodeTrace t = observed_backward(loss, logits, hidden, key, &logit_grad_norm);
  t.logit_grad_norm = logit_grad_norm;
  set_relative(t);
  return t;
}

NodeTrace trace_backward(const Tensor& loss, double logit_grad_norm, const Tensor& hidden) {
  check_loss(loss);
  if (!hidden.defined()) fail("trace_backward", "a fused loss needs the hidden states (the head's input side)");
  if (!(logit_grad_norm >= 0) || !std::isfinite(logit_grad_norm))
    fail("trace_backward", "||G||_F must be finite and >= 0, got ", logit_grad_norm);
  if (!contains(below(loss), hidden))
    fail("trace_backward", "hidden ", shape_of(hidden), " is not on the path of loss (the loss does not depend on ",
         "it through the graph): pass the hidden states the head's loss was computed from");
  NodeTrace t = observed_backward(loss, hidden, hidden);
  t.logit_grad_norm = logit_grad_norm;
  set_relative(t);
  return t;
}

LeakReport leak_test(const Tensor& logits, const Tensor& hidden, const Tensor& G, const HeadBasis& basis) {
  if (G.shape() != logits.shape())
    fail("leak_test", "logit gradient ", shape_str(G.shape()), " does not match logits ", shape_str(logits.shape()));
  const Subgraph sub = below(hidden);
  if (sub.nodes.empty() && sub.leaves.empty()) fail("leak_test", "nothing below the head requires grad");
  const LogitGradSplit split = split_logit_grad(G, basis);
  std::map<const void*, std::string> names;
  const auto full = backward_below(logits, G, sub, names);
  const auto des = backward_below(logits, split.destroyed, sub, names);
  const auto vis = backward_below(logits, split.visible, sub, names);
  LeakReport r;
  // Nodes whose full gradient is itself rounding noise (e.g. an attention key bias, whose exact
  // gradient is 0 because softmax ignores a per-query shift) have no meaningful relative error:
  // they are skipped when below sqrt(machine epsilon) of the largest full gradient below the head
  // (1.5e-8 in float64, 3.5e-4 in float32).
  const double floor_rel = std::sqrt(logits.dtype() == kFloat64 ? 2.220446049250313e-16 : 1.1920929e-07);
  double largest = 0;
  std::map<const void*, double> full_norm;
  for (const auto& [key, gf] : full) largest = std::max(largest, full_norm[key] = norm(gf));
  for (const auto& [key, gf] : full) {
    const double nf = full_norm[key];
    if (nf <= floor_rel * largest) continue;
    ++r.nodes_checked;
    if (auto it = des.find(key); it != des.end()) {
      const double d = norm(it->second) / nf;
      if (d >= r.destroyed_max) {
        r.destroyed_max = d;
        r.destroyed_node = names[key];
      }
    }
    if (auto it = vis.find(key); it != vis.end()) {
      NoGradGuard ng;
      const double v = norm(op::sub(op::to(it->second, kFloat64), op::to(gf, kFloat64))) / nf;
      if (v >= r.visible_max_diff) {
        r.visible_max_diff = v;
        r.visible_node = names[key];
      }
    }
  }
  return r;
}

}  // namespace gs::analysis
