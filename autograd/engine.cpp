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

void run(const std::vector<Tensor>& roots, const std::vector<Tensor>& root_grads, bool retain_graph,
         Capture* capture) {
  std::unordered_map<Node*, int> deps;
  std::unordered_map<AutogradMeta*, int> leaf_deps;
  std::unordered_map<Node*, Tensor> buf;
  std::unordered_map<AutogradMeta*, Tensor> leaf_buf;
  std::vector<std::shared_ptr<AutogradMeta>> leaves;  // in first-seen order (deterministic)

  // 1. dependency counts
  std::vector<Node*> stack;
  std::unordered_map<Node*, bool> seen;
  for (const Tensor& r : roots)
    if (auto fn = grad_fn(r); fn && !seen[fn.get()]) {
      seen[fn.get()] = true;
      stack.push_back(fn.get());
    }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->inputs) {
      if (e.fn) {
        ++deps[e.fn.get()];
        if (!seen[e.fn.get()]) {
          seen[e.fn.get()] = true;
          stack.push_back(e.fn.get());
        }
      } else if (e.leaf) {
        if (leaf_deps[e.leaf.get()]++ == 0) leaves.push_back(e.leaf);
      }
    }
  }

  auto finish_leaf = [&](AutogradMeta* m) {
    Tensor g = run_hooks(*m, leaf_buf[m]);
    for (Observer* o : t_observers) o->on_leaf({*m, g});
    if (capture) {
      if (auto it = capture->leaves.find(m); it != capture->leaves.end())
        (*capture->out)[it->second] = add_grads((*capture->out)[it->second], g);
      return;  // functional grad() never touches .grad
    }
    m->grad = add_grads(m->grad, g);
  };

  // 2. seed the roots
  auto newer = [](Node* a, Node* b) { return a->seq < b->seq; };
  std::priority_queue<Node*, std::vector<Node*>, decltype(newer)> ready(newer);
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    if (!requires_grad_flag(r)) fail("backward", "tensor ", shape_str(r.shape()), " does not require grad");
    Tensor g = root_grads[i];
    if (!g.defined()) {
      if (r.numel() != 1)
        fail("backward", "a gradient must be given for a non-scalar root of shape ", shape_str(r.shape()));
      g = ones(r.shape(), r.dtype(), r.device());
    } else if (g.shape() != r.shape()) {
      fail("backward", "gradient shape ", shape_str(g.shape()), " does not match root shape ", shape_str(r.shape()));
    }
    if (auto fn = grad_fn(r)) {
      buf[fn.get()] = add_grads(buf[fn.get()], g);
    } else {
      auto m = r.impl()->autograd;
      if (leaf_deps[m.get()]++ == 0) leaves.push_back(m);
      leaf_buf[m.get()] = add_grads(leaf_buf[m.get()], g);
      if (--leaf_deps[m.get()] == 0) finish_leaf(m.get());
    }
  }
  for (auto& [n, g] : buf)
    if (deps[n] == 0) ready.push(n);

  // 3. run
  NoGradGuard no_grad;  // vjps build no graph
  const bool anomaly = is_anomaly_enabled();
  while (!ready.empty()) {
    Node* n = ready.top();
    ready.pop();
    Tensor g;
    if (auto it = buf.find(n); it != buf.end()) {
      g = std::move(it->second);
      buf.erase(it);
    }
    Grads gs(n->inputs.size());
    if (g.defined()) {  // a node that received no gradient at all only passes its counts on
      if (auto out = n->output.lock()) {
        g = run_hooks(*out, g);
        if (out->retains_grad) out->grad = add_grads(out->grad, g);
      }
      if (capture)
        if (auto it = capture->nodes.find(n); it != capture->nodes.end()) (*capture->out)[it->second] = g;
      for (Observer* o : t_observers) o->on_node({*n, g});
      if (n->released)
        fail("backward", "the graph of node '", n->name, "' (", n->op,
             ") was already freed by an earlier backward; pass retain_graph = true to the first one");
      if (anomaly) check_finite_backward(n->op, n->name, "incoming gradient", g);
      if (Profiler* prof = active_profiler()) {
        const auto t0 = std::chrono::steady_clock::now();
        gs = n->vjp(g);
        prof->on_vjp(n->op, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      } else {
        gs = n->vjp(g);
      }
      if (gs.size() != n->inputs.size())
        fail("backward", "vjp of '", n->op, "' (node '", n->name, "') returned ", gs.size(), " gradients for ",
             n->inputs.size(), " inputs");
      if (!retain_graph) n->release();
      for (Observer* o : t_observers) o->on_vjp({*n, g}, gs);
    }
    for (size_t i = 0; i < gs.size(); ++i) {
      const Edge& e = n->inputs[i];
      if (!e.active()) continue;
      const Tensor& gi = gs[i];
      if (gi.defined()) {
        if (gi.shape() != n->input_shapes[i])
          fail("backward", "vjp of '", n->op, "' (node '", n->name, "') returned a gradient of shape ",
               shape_str(gi.shape()), " for input ", i, " of shape ", shape_str(n->input_shapes[i]));
        if (gi.dtype() != n->input_dtypes[i])
          fail("backward", "vjp of '", n->op, "' (node '", n->name, "') returned ", dtype_name(gi.dtype()),
               " for input ", i, " of dtype ", dtype_name(n->input_dtypes[i]));
        if (anomaly) check_finite_backward(n->op, n->name, "gradient for an input", gi);
      }
      if (e.fn) {
        Node* t = e.fn.get();
        if (gi.defined()) buf[t] = add_grads(buf[t], gi);
        if (--deps[t] == 0) ready.push(t);
      } else {
        AutogradMeta* m = e.leaf.get();
        if (gi.defined()) leaf_buf[m] = add_grads(leaf_buf[m], gi);
        if (--leaf_deps[m] == 0 && leaf_buf.count(m)) finish_leaf(m);  // no gradient arrived: nothing to add
      }
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
