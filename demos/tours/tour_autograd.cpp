// Tour 4: the autograd basics every training loop relies on, each shown by running it.
//   1  .grad accumulates across backward calls until zero_grad
//   2  backward frees the graph it walked unless retain_graph
//   3  NoGradGuard records nothing; detach cuts a tensor from its history
//   4  backward(t, g): the upstream gradient given explicitly (the leak test's mechanism)
//   5  a small MLP trained on XOR with nn::SGD: zero_grad, forward, backward, step
// The code between the snippet markers is pasted into docs/TUTORIAL.md by scripts/make_tutorial,
// next to this program's output, so the tutorial quotes code that compiled and ran.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "autograd/jvp.h"
#include "autograd/ops.h"
#include "demos/tours/format.h"
#include "demos/tours/tours.h"
#include "nn/layers.h"
#include "nn/optim.h"
#include "tensor/ops.h"

namespace gs::tours {
namespace {

const char* yes_no(bool b) { return b ? "true" : "false"; }

std::string num4(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

// [snippet mlp]
// 2 -> 8 -> 2: enough hidden units for XOR, which no linear model can fit.
struct XorNet : nn::Module {
  std::shared_ptr<nn::Linear> fc1, fc2;
  explicit XorNet(Generator& gen) {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(2, 8, gen, true, kFloat64));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(8, 2, gen, true, kFloat64));
  }
  Tensor forward(const Tensor& x) const { return fc2->forward(tanh(fc1->forward(x))); }
};
// [end]

int accumulate(std::ostream& out) {
  out << "== 1. gradients accumulate in .grad until zero_grad ==\n";
  // [snippet accumulate]
  Tensor x = set_name(requires_grad(tensor({1.0, 2.0, 3.0}, kFloat64)), "x");
  backward(sum(mul(x, x)));  // d/dx sum(x * x) = 2 x: mul sends g * x to each of its two inputs, both x
  out << "after one backward:      " << shaped("x.grad", grad_of(x)) << "\n";
  backward(sum(mul(x, x)));  // a new graph, a second backward: its gradient is added to .grad
  out << "after a second backward: " << shaped("x.grad", grad_of(x)) << "\n";
  zero_grad(x);  // .grad back to undefined (an optimiser's zero_grad() does this to every parameter)
  out << "after zero_grad(x):      " << shaped("x.grad", grad_of(x)) << "\n";
  backward(sum(mul(x, x)));
  out << "after a third backward:  " << shaped("x.grad", grad_of(x)) << "\n";
  // [end]
  const auto g = grad_of(x).to_vector<double>();
  return g == std::vector<double>{2.0, 4.0, 6.0} ? 0 : 1;
}

int retain(std::ostream& out) {
  out << "\n== 2. retain_graph: backward frees the graph it walked ==\n";
  bool threw = false;
  // [snippet retain]
  Tensor w = set_name(requires_grad(tensor({0.0, 1.0}, kFloat64)), "w");
  Tensor y = set_name(sum(exp(w)), "y");
  backward(y, Tensor(), /*retain_graph=*/true);  // keeps what the vjps saved (here w and exp(w))
  backward(y);  // walks the same graph again, then frees it
  out << shaped("w.grad", grad_of(w)) << "   (2 exp(w): two passes over one graph, accumulated)\n";
  try {
    backward(y);  // what the vjps saved is gone
  } catch (const Error& e) {
    threw = true;
    out << "a third backward(y) throws:\n  " << e.what() << "\n";
  }
  // [end]
  return threw ? 0 : 1;
}

int no_graph(std::ostream& out) {
  out << "\n== 3. no graph: NoGradGuard and detach ==\n";
  // [snippet nograd]
  Tensor v = set_name(requires_grad(tensor({0.5, -1.0}, kFloat64)), "v");
  {
    NoGradGuard no_grad;  // nothing is recorded while it lives: evaluation, optimiser updates
    Tensor y = mul(v, 3.0);
    out << "under NoGradGuard: requires_grad_flag(y) = " << yes_no(requires_grad_flag(y)) << ", grad_fn(y) is "
        << (grad_fn(y) ? "a node" : "null") << "\n";
  }
  Tensor y = mul(v, 3.0);
  out << "outside it:        requires_grad_flag(y) = " << yes_no(requires_grad_flag(y)) << ", grad_fn(y) is "
      << (grad_fn(y) ? "a node" : "null") << "\n";
  Tensor d = detach(v);      // the same numbers, no history: a constant from here on
  backward(sum(mul(v, d)));  // v * d equals v * v, but only the first factor is differentiated
  out << shaped("v.grad", grad_of(v)) << "   (d/dv sum(v * d) = d = v; sum(v * v) would give 2 v)\n";
  // [end]
  const auto g = grad_of(v).to_vector<double>();
  return g == std::vector<double>{0.5, -1.0} && !requires_grad_flag(d) ? 0 : 1;
}

int upstream(std::ostream& out) {
  out << "\n== 4. backward(t, g): the upstream gradient given explicitly ==\n";
  int bad = 0;
  // [snippet upstream]
  const Tensor W = tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}, kFloat64);  // a head [V = 3, D = 2]
  Tensor h = set_name(requires_grad(tensor({{1.0, -1.0}}, kFloat64)), "h");  // one hidden state [1, 2]
  Tensor z = set_name(matmul(h, transpose(W, 0, 1)), "z");                    // its logits [1, 3]
  try {
    backward(z);  // z has 3 elements: which combination of them to differentiate must be said
  } catch (const Error& e) {
    out << "backward(z) throws:\n  " << e.what() << "\n";
  }
  const Tensor g_vis = tensor({{1.0, 1.0, 1.0}}, kFloat64);   // column 2 - column 1 of W: in col(W)
  const Tensor g_des = tensor({{1.0, -2.0, 1.0}}, kFloat64);  // W^T g_des = 0: outside col(W)
  for (const Tensor& g : {op::add(g_vis, g_des), g_vis, g_des}) {
    zero_grad(h);
    backward(z, g, /*retain_graph=*/true);  // g stands for dLoss/dz; h receives g W
    out << "backward(z, " << values(g) << "): h.grad = " << values(grad_of(h)) << "\n";
  }
  // the functional form returns the gradient instead of adding it to .grad
  const std::vector<Tensor> gh = gs::grad({z}, {h}, {g_vis}, /*retain_graph=*/true);
  out << "gs::grad({z}, {h}, {g_vis}) returns " << values(gh[0]) << "; h.grad is still " << values(grad_of(h)) << "\n";
  // [end]
  bad += grad_of(h).to_vector<double>() != std::vector<double>{0.0, 0.0};
  bad += gh[0].to_vector<double>() != std::vector<double>{9.0, 12.0};
  return bad;
}

int train_xor(std::ostream& out) {
  out << "\n== 5. a training loop: a 2-8-2 MLP learns XOR with nn::SGD ==\n";
  const int steps = 300;
  // [snippet loop]
  Generator gen(7);
  XorNet net(gen);
  nn::SGD opt(net.named_parameters(), /*lr=*/0.5);
  const Tensor X = tensor({{0.0, 0.0}, {0.0, 1.0}, {1.0, 0.0}, {1.0, 1.0}}, kFloat64);  // [4, 2]
  const Tensor target = from_vector(std::vector<int64_t>{0, 1, 1, 0});                      // [4], int64
  double first = 0, last = 0;
  for (int step = 0; step <= steps; ++step) {
    opt.zero_grad();                                           // .grad accumulates: clear the last step's
    const Tensor loss = cross_entropy(net.forward(X), target);  // forward: this step's graph
    last = loss.item<double>();
    if (step == 0) first = last;
    if (step % 50 == 0) out << "  step " << step << ": loss " << num4(last) << "\n";
    if (step == steps) break;
    backward(loss);  // every parameter's .grad; the graph is freed
    opt.step();      // p -= lr * p.grad for every parameter, under NoGradGuard
  }
  // [end]
  out << "the parameters:";
  for (const auto& [name, p] : net.named_parameters()) out << " " << name << " " << shape_str(p.shape());
  out << " (" << net.parameter_count() << " numbers)\n";
  int right = 0;
  {
    NoGradGuard no_grad;
    const auto logits = net.forward(X).to_vector<double>();
    const auto xs = X.to_vector<double>();
    for (int i = 0; i < 4; ++i) {
      const int pred = logits[2 * i + 1] > logits[2 * i] ? 1 : 0;
      const int want = (xs[2 * i] != xs[2 * i + 1]) ? 1 : 0;
      right += pred == want;
      out << "  (" << xs[2 * i] << ", " << xs[2 * i + 1] << ") -> class " << pred << " (XOR " << want << ")\n";
    }
  }
  const bool ok = right == 4 && last < 0.05 && last < first;
  out << "  check: all 4 cases right and the loss below 0.05: " << (ok ? "ok" : "FAILED") << "\n";
  return ok ? 0 : 1;
}

int forward_mode(std::ostream& out) {
  out << "\n== 6. forward mode: jvp gives J v in one pass ==\n";
  int bad = 0;
  // [snippet jvp]
  const Tensor W = tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}, kFloat64);  // the head of section 4
  const Tensor h = tensor({{1.0, -1.0}}, kFloat64);
  auto head = [&](const std::vector<Tensor>& x) { return std::vector<Tensor>{tanh(matmul(x[0], transpose(W, 0, 1)))}; };
  // J e_i for each input direction e_i: the columns of the Jacobian dz/dh [3, 2], one jvp each
  for (const Tensor& e : {tensor({{1.0, 0.0}}, kFloat64), tensor({{0.0, 1.0}}, kFloat64)})
    out << "jvp(head, h, " << values(e) << ") = " << values(jvp(head, {h}, {e})[0]) << "\n";
  // the same Jacobian from reverse mode, one row per output: <u, J v> = <J^T u, v> for every u, v
  const Tensor u = tensor({{1.0, 0.5, -1.0}}, kFloat64), v = tensor({{0.5, 2.0}}, kFloat64);
  const Tensor Jv = jvp(head, {h}, {v})[0];
  const Tensor hx = requires_grad(op::clone(h));
  const Tensor JTu = gs::grad(head({hx}), {hx}, {u})[0];
  out << "<u, J v> = " << num4(op::sum(op::mul(u, Jv)).item<double>()) << ", <J^T u, v> = "
      << num4(op::sum(op::mul(JTu, v)).item<double>()) << "\n";
  // [end]
  bad += std::abs(op::sum(op::mul(u, Jv)).item<double>() - op::sum(op::mul(JTu, v)).item<double>()) > 1e-12;
  return bad;
}

}  // namespace

int tour_autograd(std::ostream& out) {
  int bad = accumulate(out);
  bad += retain(out);
  bad += no_graph(out);
  bad += upstream(out);
  bad += train_xor(out);
  bad += forward_mode(out);
  out << "\n" << (bad == 0 ? "every step behaved as described" : "SOME STEPS DID NOT BEHAVE AS DESCRIBED") << "\n";
  return bad == 0 ? 0 : 1;
}

}  // namespace gs::tours
