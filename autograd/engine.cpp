// The engine in one screen:
//  1. walk the graph from the roots (explicit stack) counting, for every node and leaf, how many
//     edges lead into it;
//  2. run nodes whose count has dropped to zero, newest first: hooks, observers, vjp;
//  3. add each returned gradient into its target's buffer and drop the target's count;
//  4. a leaf whose count reaches zero gets its hooks run and its .grad accumulated.
#include "autograd/engine.h"

#include <chrono>
#include <queue>
#include <unordered_map>

#include "autograd/anomaly.h"
#include "autograd/grad_mode.h"
#include "autograd/profiler.h"
#include "autograd/variable.h"
#include "tensor/creation.h"
#include "tensor/elementwise.h"

namespace gs {
namespace {

thread_local std::vector<Observer*> t_observers;

Tensor add_grads(const Tensor& a, const Tensor& b) { return a.defined() ? op::add(a, b) : b; }

Tensor run_hooks(const AutogradMeta& m, Tensor g) {
  for (const auto& h : m.hooks)
    if (auto r = h(g)) {
      if (r->shape() != g.shape())
        fail("register_hook", "hook on '", m.grad_fn ? m.grad_fn->name : m.name, "' returned shape ",
             shape_str(r->shape()), " for a gradient of shape ", shape_str(g.shape()));
      g = *r;
    }
  return g;
}

struct Capture {  // functional grad(): which gradients to return instead of accumulating
  std::unordered_map<const Node*, size_t> nodes;
  std::unordered_map<const AutogradMeta*, size_t> leaves;
  std::vector<Tensor>* out = nullptr;
};

struct Newer {  // ready nodes run in decreasing creation order
  bool operator()(const Node* a, const Node* b) const { return a->seq < b->seq; }
};

// One backward pass: how many edges each target still waits for, and its gradient summed so far.
struct Pass {
  Pass(bool retain, Capture* cap) : retain_graph(retain), capture(cap) {}
  bool retain_graph;
  Capture* capture;      // null for backward()
  bool anomaly = false;  // read once, when the nodes start to run
  // One entry per node reached, holding everything the pass keeps about it: one hash-map node
  // per graph node instead of one in each of three maps (this is the engine's per-op overhead).
  struct NodeState {
    int deps = 0;       // edges still to deliver into it
    bool seen = false;  // pushed on count_edges' stack already
    Tensor buf;         // its incoming gradient summed so far (undefined: none yet)
  };
  std::unordered_map<Node*, NodeState> nodes;
  std::unordered_map<AutogradMeta*, int> leaf_deps;
  std::unordered_map<AutogradMeta*, Tensor> leaf_buf;
  std::vector<std::shared_ptr<AutogradMeta>> leaves;  // in first-seen order; held for the pass
  std::priority_queue<Node*, std::vector<Node*>, Newer> ready;
};

// Step 1, with an explicit stack so that a 100k-node chain cannot overflow the call stack.
void count_edges(Pass& p, const std::vector<Tensor>& roots) {
  std::vector<Node*> stack;
  for (const Tensor& r : roots)
    if (auto fn = grad_fn(r)) {
      if (auto& s = p.nodes[fn.get()]; !s.seen) {
        s.seen = true;
        stack.push_back(fn.get());
      }
    }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->inputs) {
      if (e.fn) {
        auto& s = p.nodes[e.fn.get()];
        ++s.deps;
        if (!s.seen) {
          s.seen = true;
          stack.push_back(e.fn.get());
        }
      } else if (e.leaf) {
        if (p.leaf_deps[e.leaf.get()]++ == 0) p.leaves.push_back(e.leaf);
      }
    }
  }
}

// Step 4: the leaf's total gradient is final. Observers see .grad before it is accumulated.
void finish_leaf(Pass& p, AutogradMeta* m) {
  Tensor g = run_hooks(*m, p.leaf_buf[m]);
  for (Observer* o : t_observers) o->on_leaf({*m, g});
  if (p.capture) {
    if (auto it = p.capture->leaves.find(m); it != p.capture->leaves.end())
      (*p.capture->out)[it->second] = add_grads((*p.capture->out)[it->second], g);
    return;  // functional grad() never touches .grad
  }
  m->grad = add_grads(m->grad, g);
}

// The upstream gradient of a root: the one given, or ones for a one-element root.
Tensor root_gradient(const Tensor& r, const Tensor& given) {
  if (!requires_grad_flag(r)) fail("backward", "tensor ", shape_str(r.shape()), " does not require grad");
  if (given.defined()) {
    if (given.shape() != r.shape())
      fail("backward", "gradient shape ", shape_str(given.shape()), " does not match root shape ",
           shape_str(r.shape()));
    return given;
  }
  if (r.numel() != 1)
    fail("backward", "a gradient must be given for a non-scalar root of shape ", shape_str(r.shape()));
  return ones(r.shape(), r.dtype(), r.device());
}

// Buffers each root's gradient like a delivery from above; a root that is a leaf is finished at
// once unless edges lead into it too. Root nodes nothing else feeds become ready.
void seed_roots(Pass& p, const std::vector<Tensor>& roots, const std::vector<Tensor>& root_grads) {
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    Tensor g = root_gradient(r, root_grads[i]);
    if (auto fn = grad_fn(r)) {
      Tensor& buf = p.nodes[fn.get()].buf;
      buf = add_grads(buf, g);
    } else {
      auto m = r.impl()->autograd;
      if (p.leaf_deps[m.get()]++ == 0) p.leaves.push_back(m);
      p.leaf_buf[m.get()] = add_grads(p.leaf_buf[m.get()], g);
      if (--p.leaf_deps[m.get()] == 0) finish_leaf(p, m.get());
    }
  }
  for (auto& [n, s] : p.nodes)
    if (s.buf.defined() && s.deps == 0) p.ready.push(n);
}

// The node's summed incoming gradient, taken out of the buffer (undefined if none arrived).
Tensor take_gradient(Pass& p, Node* n) {
  Tensor g;
  if (auto it = p.nodes.find(n); it != p.nodes.end()) g = std::move(it->second.buf);
  return g;
}

// The vjp itself: refused on a freed graph, timed while a Profiler is alive, its incoming
// gradient checked in anomaly mode, and its result one gradient per input.
Grads call_vjp(const Node& n, const Tensor& g, bool anomaly) {
  using Clock = std::chrono::steady_clock;
  if (n.released)
    fail("backward", "the graph of node '", n.name, "' (", n.op,
         ") was already freed by an earlier backward; pass retain_graph = true to the first one");
  if (anomaly) check_finite_backward(n.op, n.name, "incoming gradient", g);
  Profiler* prof = active_profiler();
  const Clock::time_point t0 = prof ? Clock::now() : Clock::time_point();
  Grads gs = n.vjp(g);
  if (prof) prof->on_vjp(n.op, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  if (gs.size() != n.inputs.size())
    fail("backward", "vjp of '", n.op, "' (node '", n.name, "') returned ", gs.size(), " gradients for ",
         n.inputs.size(), " inputs");
  return gs;
}

// Step 2 for one node. The output's hooks may replace g (in place: the caller keeps it alive);
// retain_grad, grad()'s capture and the observers all see the replaced gradient. Saved tensors
// are freed right after the vjp unless retain_graph.
Grads run_node(Pass& p, Node& n, Tensor& g) {
  if (auto out = n.output.lock()) {
    g = run_hooks(*out, g);
    if (out->retains_grad) out->grad = add_grads(out->grad, g);
  }
  if (p.capture)
    if (auto it = p.capture->nodes.find(&n); it != p.capture->nodes.end()) (*p.capture->out)[it->second] = g;
  for (Observer* o : t_observers) o->on_node({n, g});
  Grads gs = call_vjp(n, g, p.anomaly);
  if (!p.retain_graph) n.release();
  for (Observer* o : t_observers) o->on_vjp({n, g}, gs);
  return gs;
}

// After every vjp: a gradient must have its input's shape and dtype, and the error names the op.
void check_vjp_result(const Node& n, size_t i, const Tensor& gi, bool anomaly) {
  if (!gi.defined()) return;
  if (gi.shape() != n.inputs[i].shape)
    fail("backward", "vjp of '", n.op, "' (node '", n.name, "') returned a gradient of shape ",
         shape_str(gi.shape()), " for input ", i, " of shape ", shape_str(n.inputs[i].shape));
  if (gi.dtype() != n.inputs[i].dtype)
    fail("backward", "vjp of '", n.op, "' (node '", n.name, "') returned ", dtype_name(gi.dtype()),
         " for input ", i, " of dtype ", dtype_name(n.inputs[i].dtype));
  if (anomaly) check_finite_backward(n.op, n.name, "gradient for an input", gi);
}

// Step 3: sum gi into the edge's target and drop its count; at zero a node becomes ready and a
// leaf is finished (step 4).
void deliver(Pass& p, const Edge& e, const Tensor& gi) {
  if (e.fn) {
    Node* t = e.fn.get();
    auto& s = p.nodes[t];
    if (gi.defined()) s.buf = add_grads(s.buf, gi);
    if (--s.deps == 0) p.ready.push(t);
  } else {
    AutogradMeta* m = e.leaf.get();
    if (gi.defined()) p.leaf_buf[m] = add_grads(p.leaf_buf[m], gi);
    if (--p.leaf_deps[m] == 0 && p.leaf_buf.count(m)) finish_leaf(p, m);  // none arrived: nothing to add
  }
}

void run(const std::vector<Tensor>& roots, const std::vector<Tensor>& root_grads, bool retain_graph,
         Capture* capture) {
  Pass p(retain_graph, capture);
  count_edges(p, roots);               // 1.
  seed_roots(p, roots, root_grads);
  NoGradGuard no_grad;  // vjps build no graph
  p.anomaly = is_anomaly_enabled();
  while (!p.ready.empty()) {           // 2.
    Node* n = p.ready.top();
    p.ready.pop();
    Tensor g = take_gradient(p, n);
    // a node that received no gradient at all only passes its counts on
    Grads gs = g.defined() ? run_node(p, *n, g) : Grads(n->inputs.size());
    for (size_t i = 0; i < gs.size(); ++i)  // 3. and 4.
      if (const Edge& e = n->inputs[i]; e.active()) {
        check_vjp_result(*n, i, gs[i], p.anomaly);
        deliver(p, e, gs[i]);
      }
  }
}

}  // namespace

ObserverScope::ObserverScope(Observer& o) : o_(&o) { t_observers.push_back(o_); }
ObserverScope::~ObserverScope() { std::erase(t_observers, o_); }

void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& gradients, bool retain_graph) {
  if (gradients.size() != roots.size() && !gradients.empty())
    fail("backward", roots.size(), " roots but ", gradients.size(), " gradients");
  std::vector<Tensor> g = gradients;
  g.resize(roots.size());
  run(roots, g, retain_graph, nullptr);
}

void backward(const Tensor& root, const Tensor& gradient, bool retain_graph) {
  backward(std::vector<Tensor>{root}, std::vector<Tensor>{gradient}, retain_graph);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph, bool allow_unused) {
  Capture cap;
  std::vector<Tensor> result(inputs.size());
  cap.out = &result;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!requires_grad_flag(inputs[i])) fail("grad", "input ", i, " does not require grad");
    if (auto fn = grad_fn(inputs[i])) cap.nodes[fn.get()] = i;
    else cap.leaves[inputs[i].impl()->autograd.get()] = i;
  }
  if (!grad_outputs.empty() && grad_outputs.size() != outputs.size())
    fail("grad", outputs.size(), " outputs but ", grad_outputs.size(), " grad_outputs");
  std::vector<Tensor> g = grad_outputs;
  g.resize(outputs.size());
  run(outputs, g, retain_graph, &cap);
  if (!allow_unused)
    for (size_t i = 0; i < result.size(); ++i)
      if (!result[i].defined()) fail("grad", "input ", i, " is not reachable from the outputs (allow_unused = false)");
  return result;
}

}  // namespace gs
