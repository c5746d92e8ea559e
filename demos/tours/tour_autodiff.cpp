// Tour 1: autodiff on one screen. A scalar expression, then a small tensor expression: the
// leaves with their values, the forward nodes in topological order with their values, the
// backward pass node by node (which vjp ran, the gradient it received, what it sent to each
// input), every leaf's gradient with its shape, and each of its elements checked against central
// finite differences.
#include <cmath>
#include <functional>
#include <iomanip>
#include <map>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "demos/tours/format.h"
#include "demos/tours/tours.h"
#include "tensor/ops.h"

namespace gs::tours {
namespace {

// Prints every backward step: the node, its vjp, the gradient in, the gradients out.
struct Narrator : Observer {
  std::ostream& out;
  explicit Narrator(std::ostream& o) : out(o) {}
  void on_node(const NodeEvent&) override {}
  void on_vjp(const NodeEvent& e, const Grads& gs) override {
    out << "  vjp of " << std::left << std::setw(10) << e.node.op << " at '" << e.node.name << "': received "
        << values(e.grad_output) << "\n";
    for (size_t i = 0; i < gs.size(); ++i) {
      const Edge& edge = e.node.inputs[i];
      if (!edge.active()) continue;
      out << "      sends " << values(gs[i]) << " to ";
      if (edge.fn) out << "node '" << edge.fn->name << "'\n";
      else out << "leaf '" << edge.leaf->name << "'\n";
    }
  }
};

void print_leaves(std::ostream& out, const std::vector<Tensor>& leaves, const std::vector<Tensor>& constants) {
  out << "the leaves (made with requires_grad: backward fills their .grad):\n";
  for (const Tensor& t : leaves) out << "  " << shaped(name_of(t), t) << "\n";
  for (const Tensor& t : constants)
    out << "  " << shaped(name_of(t), t) << "   (a constant: no requires_grad, so no gradient)\n";
}

void print_forward(std::ostream& out, const Tensor& root) {
  // the graph's nodes by creation order (seq): a topological order of the forward pass
  std::map<uint64_t, const Node*> order;
  std::vector<const Node*> stack{grad_fn(root).get()};
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (!order.emplace(n->seq, n).second) continue;
    for (const Edge& e : n->inputs)
      if (e.fn) stack.push_back(e.fn.get());
  }
  for (const auto& [seq, n] : order) {
    auto v = n->output_value.lock();
    out << "  " << std::left << std::setw(8) << n->name << " = " << std::setw(8) << n->op << " -> "
        << (v ? values(Tensor(v)) : std::string("(freed)")) << "\n";
  }
}

void print_grads(std::ostream& out, const std::vector<Tensor>& leaves) {
  out << "the leaves' gradients after backward (each has its leaf's shape):\n";
  for (const Tensor& t : leaves) out << "  " << shaped(name_of(t) + ".grad", grad_of(t)) << "\n";
}

// Compares each leaf's gradient with central differences of f; prints both; returns #failures.
int check_leaves(std::ostream& out, const std::function<Tensor()>& f, const std::vector<Tensor>& leaves) {
  const double eps = 1e-6;
  int bad = 0;
  for (const Tensor& leaf : leaves) {
    double* p = leaf.data<double>();
    const auto analytic = grad_of(leaf).to_vector<double>();
    for (int64_t j = 0; j < leaf.numel(); ++j) {
      const double orig = p[j];
      double lp, lm;
      {
        NoGradGuard ng;
        p[j] = orig + eps;
        lp = f().item<double>();
        p[j] = orig - eps;
        lm = f().item<double>();
        p[j] = orig;
      }
      const double numeric = (lp - lm) / (2 * eps);
      const bool ok = std::abs(analytic[j] - numeric) <= 1e-5 + 1e-3 * std::abs(numeric);
      bad += !ok;
      out << "  d f / d " << name_of(leaf) << index_of(j, leaf.shape()) << ": backprop " << std::setprecision(8)
          << analytic[j] << "   finite difference " << numeric << "   " << (ok ? "agree" : "DISAGREE") << "\n";
    }
  }
  return bad;
}

}  // namespace

int tour_autodiff(std::ostream& out) {
  int bad = 0;
  std::vector<Tensor> keep;  // holds the intermediates so the forward listing can show their values

  out << "== 1. a scalar expression: f(a, b) = (a * b + tanh(a)) * exp(b) ==\n";
  // [snippet scalar]
  Tensor a = set_name(requires_grad(scalar(0.5, kFloat64)), "a");  // leaves: backward fills their .grad
  Tensor b = set_name(requires_grad(scalar(-1.2, kFloat64)), "b");
  auto f1 = [&] {  // each op call records one node; set_name only labels it for the printout
    Tensor ab = set_name(mul(a, b), "ab");
    Tensor t = set_name(tanh(a), "t");
    Tensor s = set_name(add(ab, t), "s");
    Tensor e = set_name(exp(b), "e");
    keep = {ab, t, s, e};
    return set_name(mul(s, e), "f");
  };
  Tensor f = f1();  // the forward pass: values now, and the graph for later
  // [end]
  print_leaves(out, {a, b}, {});
  out << "forward, in topological order:\n";
  print_forward(out, f);
  out << "backward, node by node (newest first):\n";
  // [snippet scalar]
  {
    Narrator narrator(out);  // an Observer: the engine calls it after every vjp
    ObserverScope scope(narrator);
    backward(f);  // f has one element, so the upstream gradient df/df = 1 is implied
  }
  // now grad_of(a) is df/da and grad_of(b) is df/db, each with the shape of its leaf
  // [end]
  print_grads(out, {a, b});
  out << "every leaf gradient against central differences (eps 1e-6):\n";
  bad += check_leaves(out, f1, {a, b});

  out << "\n== 2. a tensor expression: f(W, x) = sum(sigmoid(W x) * c) ==\n";
  // [snippet tensor]
  Tensor W = set_name(requires_grad(tensor({{0.2, -0.4, 0.1}, {0.7, 0.3, -0.5}}, kFloat64)), "W");  // [2, 3]
  Tensor x = set_name(requires_grad(op::reshape(tensor({1.0, -2.0, 0.5}, kFloat64), {3, 1})), "x");  // [3, 1]
  const Tensor c = set_name(op::reshape(tensor({1.0, -3.0}, kFloat64), {2, 1}), "c");  // [2, 1], no grad
  auto f2 = [&] {
    Tensor z = set_name(matmul(W, x), "z");
    Tensor s = set_name(sigmoid(z), "s");
    Tensor m = set_name(mul(s, c), "m");
    keep = {z, s, m};
    return set_name(sum(m), "f");
  };
  Tensor g = f2();
  // [end]
  print_leaves(out, {W, x}, {c});
  out << "forward, in topological order:\n";
  print_forward(out, g);
  out << "backward, node by node (newest first):\n";
  {
    Narrator narrator(out);
    ObserverScope scope(narrator);
    backward(g);
  }
  print_grads(out, {W, x});
  out << "every leaf gradient against central differences (eps 1e-6):\n";
  bad += check_leaves(out, f2, {W, x});
  out << "\n" << (bad == 0 ? "all leaf gradients agree with finite differences" : "SOME GRADIENTS DISAGREE") << "\n";
  return bad == 0 ? 0 : 1;
}

}  // namespace gs::tours
