// Tour 1: autodiff on one screen. A scalar expression, then a small tensor expression:
// the forward nodes in topological order with their values, the backward pass node by node
// (which vjp ran, the gradient it received, what it sent to each input), and every leaf
// gradient checked against central finite differences.
#include <cmath>
#include <functional>
#include <iomanip>
#include <map>
#include <sstream>

#include "autograd/ops.h"
#include "demos/tours/tours.h"
#include "tensor/ops.h"

namespace gs::tours {
namespace {

std::string fmt(const Tensor& t) {
  if (!t.defined()) return "(none)";
  std::ostringstream os;
  os << std::setprecision(5);
  const auto v = t.to_vector<double>();
  if (t.dim() == 0) {
    os << v[0];
    return os.str();
  }
  os << "[";
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << "]";
  return os.str();
}

// Prints every backward step: the node, its vjp, the gradient in, the gradients out.
struct Narrator : Observer {
  std::ostream& out;
  explicit Narrator(std::ostream& o) : out(o) {}
  void on_node(const NodeEvent&) override {}
  void on_vjp(const NodeEvent& e, const Grads& gs) override {
    out << "  vjp of " << std::left << std::setw(10) << e.node.op << " at '" << e.node.name << "': received "
        << fmt(e.grad_output) << "\n";
    for (size_t i = 0; i < gs.size(); ++i) {
      const Edge& edge = e.node.inputs[i];
      if (!edge.active()) continue;
      out << "      sends " << fmt(gs[i]) << " to ";
      if (edge.fn) out << "node '" << edge.fn->name << "'\n";
      else out << "leaf '" << edge.leaf->name << "'\n";
    }
  }
};

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
        << (v ? fmt(Tensor(v)) : std::string("(freed)")) << "\n";
  }
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
      out << "  d f / d " << name_of(leaf);
      if (leaf.numel() > 1) out << "[" << j << "]";
      out << ": backprop "
          << std::setprecision(8) << analytic[j] << "   finite difference " << numeric << "   " << (ok ? "agree" : "DISAGREE")
          << "\n";
    }
  }
  return bad;
}

}  // namespace

int tour_autodiff(std::ostream& out) {
  int bad = 0;
  out << "== 1. a scalar expression: f(a, b) = (a * b + tanh(a)) * exp(b) ==\n";
  Tensor a = set_name(requires_grad(scalar(0.5, kFloat64)), "a");
  Tensor b = set_name(requires_grad(scalar(-1.2, kFloat64)), "b");
  std::vector<Tensor> keep;  // intermediates kept alive so the forward listing can show their values
  auto f1 = [&] {
    Tensor ab = set_name(mul(a, b), "ab");
    Tensor t = set_name(tanh(a), "t");
    Tensor s = set_name(add(ab, t), "s");
    Tensor e = set_name(exp(b), "e");
    keep = {ab, t, s, e};
    return set_name(mul(s, e), "f");
  };
  Tensor f = f1();
  out << "forward, in topological order:\n";
  print_forward(out, f);
  out << "backward, node by node (newest first):\n";
  {
    Narrator nar(out);
    ObserverScope scope(nar);
    backward(f);
  }
  out << "every leaf gradient against central differences (eps 1e-6):\n";
  bad += check_leaves(out, f1, {a, b});

  out << "\n== 2. a tensor expression: f(W, x) = sum(sigmoid(W x) * c) ==\n";
  Tensor W = set_name(requires_grad(tensor({{0.2, -0.4, 0.1}, {0.7, 0.3, -0.5}}, kFloat64)), "W");
  Tensor x = set_name(requires_grad(op::reshape(tensor({1.0, -2.0, 0.5}, kFloat64), {3, 1})), "x");  // [3, 1]
  const Tensor c = op::reshape(tensor({1.0, -3.0}, kFloat64), {2, 1});
  auto f2 = [&] {
    Tensor z = set_name(matmul(W, x), "z");
    Tensor s = set_name(sigmoid(z), "s");
    Tensor m = set_name(mul(s, c), "m");
    keep = {z, s, m};
    return set_name(sum(m), "f");
  };
  Tensor g = f2();
  out << "forward, in topological order:\n";
  print_forward(out, g);
  out << "backward, node by node (newest first):\n";
  {
    Narrator nar(out);
    ObserverScope scope(nar);
    backward(g);
  }
  out << "every leaf gradient against central differences (eps 1e-6):\n";
  bad += check_leaves(out, f2, {W, x});
  out << "\n" << (bad == 0 ? "all leaf gradients agree with finite differences" : "SOME GRADIENTS DISAGREE") << "\n";
  return bad == 0 ? 0 : 1;
}

}  // namespace gs::tours
