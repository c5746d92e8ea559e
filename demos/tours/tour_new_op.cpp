// Tour 3: write a new differentiable op. softplus(x) = log(1 + exp(x)), with its vjp
// g * sigmoid(x), recorded once, side by side, exactly as gradscope's own ops are. Gradcheck
// confirms it; then the same op with a deliberately wrong vjp, and the report that catches it.
#include <iomanip>

#include "autograd/ops.h"
#include "autograd/gradcheck.h"
#include "autograd/registry.h"
#include "demos/tours/tours.h"
#include "tensor/ops.h"

namespace gs::tours {
namespace {

// Stable forward: max(x, 0) + log(1 + exp(-|x|)), written with plain tensor ops (gs::op).
Tensor softplus_forward(const Tensor& x) {
  return op::add(op::maximum(x, zeros_like(x)), op::log(op::add(op::exp(op::neg(op::abs(x))), 1.0)));
}

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

void show(std::ostream& out, const char* title, const GradcheckResult& r) {
  out << title << ": " << (r.ok ? "PASSED" : "FAILED") << " (" << r.checked << " elements compared, max |error| "
      << std::scientific << std::setprecision(2) << r.max_abs_error << std::defaultfloat << ")\n";
  if (!r.ok) out << "  report:\n" << r.report;
}

}  // namespace

int tour_new_op(std::ostream& out) {
  Generator gen(3);
  const Tensor x = randn({2, 3}, gen, kFloat64, 0, 2);
  out << "softplus(x) = log(1 + exp(x)); its vjp: g * sigmoid(x)\n";
  out << "x          = " << x << "\n";
  out << "softplus(x)= " << softplus(x) << "\n\n";
  const GradcheckOptions defaults;
  out << "gradcheck (float64, central differences, eps " << defaults.eps << ", atol " << defaults.atol << ", rtol "
      << defaults.rtol << "):\n";
  const GradcheckResult good = gradcheck([](const std::vector<Tensor>& in) { return softplus(in[0]); }, {x});
  show(out, "softplus with the right vjp", good);
  const GradcheckResult bad = gradcheck([](const std::vector<Tensor>& in) { return softplus_wrong(in[0]); }, {x});
  show(out, "softplus with sigmoid(-x) in the vjp", bad);
  out << "\n" << (good.ok && !bad.ok ? "gradcheck accepts the right vjp and catches the wrong one" : "UNEXPECTED RESULT") << "\n";
  return good.ok && !bad.ok ? 0 : 1;
}

}  // namespace gs::tours
