// Tour 3: write a new differentiable op. softplus(x) = log(1 + exp(x)), with its vjp
// g * sigmoid(x), recorded once, side by side, exactly as gradscope's own ops are. Gradcheck
// confirms it; then the same op with a deliberately wrong vjp, the report that catches it, and
// what the report's numbers are (gradcheck differentiates <R, f(x)> for a random R, not f itself).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <sstream>
#include <vector>

#include "autograd/ops.h"
#include "autograd/gradcheck.h"
#include "autograd/registry.h"
#include "demos/tours/format.h"
#include "demos/tours/tours.h"
#include "tensor/ops.h"

namespace gs::tours {
namespace {

// Stable forward: max(x, 0) + log(1 + exp(-|x|)), written with plain tensor ops (gs::op).
Tensor softplus_forward(const Tensor& x) {
  return op::add(op::maximum(x, zeros_like(x)), op::log(op::add(op::exp(op::neg(op::abs(x))), 1.0)));
}

// [snippet op]
// The new op. record() is what makes it differentiable: it stores the vjp with the saved
// input. record() only accepts registered op names: gradscope's own ops are listed in
// autograd/registry.cpp, an op defined outside the library registers itself (register_op).
Tensor softplus(const Tensor& x) {
  register_op("softplus", "tour_new_op");
  return record("softplus", softplus_forward(x), {x}, [x = saved(x)](const Tensor& g) {
    return grads(op::mul(g, op::sigmoid(x)));  // d softplus / dx = sigmoid(x)
  });
}

// The same op with a classic mistake in the vjp: sigmoid(-x) instead of sigmoid(x).
Tensor softplus_wrong(const Tensor& x) {
  register_op("softplus_wrong", "tour_new_op");
  return record("softplus_wrong", softplus_forward(x), {x}, [x = saved(x)](const Tensor& g) {
    return grads(op::mul(g, op::sigmoid(op::neg(x))));
  });
}
// [end]

void show(std::ostream& out, const char* title, const GradcheckResult& r) {
  out << title << ": " << (r.ok ? "PASSED" : "FAILED") << " (" << r.checked << " elements compared, max |error| "
      << std::scientific << std::setprecision(2) << r.max_abs_error << std::defaultfloat << ")\n";
  if (!r.ok) out << "  report:\n" << r.report;
}

// Fixed 4-decimal text, negative zero printed as 0.
std::string num(double v) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(4) << (std::abs(v) < 5e-5 ? 0.0 : v);
  return os.str();
}

double sigmoid_of(double v) { return 1.0 / (1.0 + std::exp(-v)); }

}  // namespace

int tour_new_op(std::ostream& out) {
  int failures = 0;
  out << "== 1. a new op: softplus(x) = log(1 + exp(x)), its vjp g * sigmoid(x) ==\n";
  Generator gen(3);
  const Tensor x = randn({2, 3}, gen, kFloat64, 0, 2);
  out << "x          = " << x << "\n";
  out << "softplus(x)= " << softplus(x) << "\n";

  out << "\n== 2. gradcheck: the right vjp and a wrong one ==\n";
  const GradcheckOptions defaults;
  out << "gradcheck (float64, central differences, eps " << defaults.eps << ", atol " << defaults.atol << ", rtol "
      << defaults.rtol << "):\n";
  // [snippet check]
  const GradcheckResult good = gradcheck([](const std::vector<Tensor>& in) { return softplus(in[0]); }, {x});
  const GradcheckResult bad = gradcheck([](const std::vector<Tensor>& in) { return softplus_wrong(in[0]); }, {x});
  // [end]
  show(out, "softplus with the right vjp", good);
  show(out, "softplus with sigmoid(-x) in the vjp", bad);
  failures += !(good.ok && !bad.ok);

  out << "\n== 3. what gradcheck compares: the scalar L(x) = <R, f(x)>, not f itself ==\n";
  out << "gradcheck draws a random R with f(x)'s shape (randn, Generator(seed " << defaults.seed
      << ")) and checks one scalar,\n"
         "L(x) = sum_j R_j f(x)_j. analytic: dL/dx from backward(f(x), R), R as the upstream gradient;\n"
         "numeric: (L(x + eps e_j) - L(x - eps e_j)) / (2 eps) for each element j. For an elementwise op\n"
         "dL/dx_j = R_j f'(x_j), so each report line is R_j times a derivative, not the derivative:\n";
  // [snippet weights]
  Generator rgen(defaults.seed);  // gradcheck's own draw, repeated: the same seed, the same shape
  const Tensor R = randn(x.shape(), rgen, kFloat64);
  Tensor xl = requires_grad(op::clone(x));
  backward(softplus_wrong(xl), R);  // R is dL/df: this is the analytic side of the failed check
  // [end]
  out << "  " << shaped("R", R) << "\n";
  out << "     j        x_j       R_j   numeric: R_j sigmoid(x_j)   analytic: R_j sigmoid(-x_j)\n";
  const auto xv = x.to_vector<double>(), rv = R.to_vector<double>(), an = grad_of(xl).to_vector<double>();
  double worst = 0, mismatch = 0;
  for (size_t j = 0; j < xv.size(); ++j) {
    const double right = rv[j] * sigmoid_of(xv[j]), wrong = rv[j] * sigmoid_of(-xv[j]);
    worst = std::max(worst, std::abs(wrong - right));
    mismatch = std::max(mismatch, std::abs(an[j] - wrong));
    char line[128];
    std::snprintf(line, sizeof line, "  %4zu  %9s  %8s  %25s  %27s\n", j, num(xv[j]).c_str(), num(rv[j]).c_str(),
                  num(right).c_str(), num(wrong).c_str());
    out << line;
  }
  // the table is the report: its largest difference is gradcheck's max |error| (to the
  // finite differences' own error), and backward(f, R) gave the analytic column
  const bool same_r = std::abs(worst - bad.max_abs_error) <= 1e-6;
  const bool same_vjp = mismatch <= 1e-12;
  out << "  check: max_j |R_j sigmoid(-x_j) - R_j sigmoid(x_j)| = gradcheck's max |error| (to 1e-6): "
      << (same_r ? "ok" : "FAILED") << "\n";
  out << "  check: backward(softplus_wrong(x), R) gives the analytic column (to 1e-12): " << (same_vjp ? "ok" : "FAILED")
      << "\n";
  failures += !same_r + !same_vjp;
  out << "the numeric column is the true dL/dx_j, the analytic one what the wrong vjp claims; divide a\n"
         "row by R_j to get softplus' derivative itself (sigmoid(x_j)) and the wrong one (sigmoid(-x_j)).\n"
         "why a random R: one backward gives R^T J, a random mix of all the rows of the Jacobian J, so a\n"
         "wrong entry anywhere shows up (it could only cancel for R in a set of probability 0). A fixed\n"
         "weighting can hide errors: with R = ones a vjp is only ever tried on g = ones, and softmax (its\n"
         "outputs always sum to 1, so the true answer is 0) would pass with a vjp that returns 0 for any g.\n";
  out << "\n" << (failures == 0 ? "gradcheck accepts the right vjp and catches the wrong one" : "UNEXPECTED RESULT")
      << "\n";
  return failures == 0 ? 0 : 1;
}

}  // namespace gs::tours
