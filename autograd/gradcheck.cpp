#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/variable.h"
#include "tensor/convert.h"
#include "tensor/creation.h"
#include "tensor/elementwise.h"
#include "tensor/reduce.h"

namespace gs {
namespace {

// L(x) = sum(f(x) * R), evaluated without a graph.
double objective(const GradcheckFn& f, const std::vector<Tensor>& xs, const Tensor& R) {
  NoGradGuard ng;
  Tensor y = f(xs);
  return op::sum(op::mul(op::to(y, kFloat64), R)).item<double>();
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs, const GradcheckOptions& opt) {
  std::vector<Tensor> xs;
  std::vector<bool> check;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined() || t.dtype() == kInt64) {
      xs.push_back(t);
      check.push_back(false);
      continue;
    }
    if (t.dtype() != kFloat64) fail("gradcheck", "input ", i, " is ", dtype_name(t.dtype()), "; gradcheck needs float64");
    xs.push_back(requires_grad(op::clone(t)));
    check.push_back(true);
  }
  Generator gen(opt.seed);
  Tensor y0;
  {
    NoGradGuard ng;
    y0 = f(xs);
  }
  const Tensor R = randn(y0.shape(), gen, kFloat64);

  // analytic gradients
  Tensor y = f(xs);
  if (!requires_grad_flag(y)) fail("gradcheck", "the function output does not depend on any checked input");
  if (y.dtype() != kFloat64) fail("gradcheck", "the function returned ", dtype_name(y.dtype()), ", not float64");
  backward(y, R);  // L = <y, R>, so dL/dy = R

  GradcheckResult res;
  std::ostringstream rep;
  int reported = 0;
  auto compare = [&](const std::string& what, double analytic, double numeric) {
    const double err = std::abs(analytic - numeric);
    res.max_abs_error = std::max(res.max_abs_error, err);
    ++res.checked;
    if (!(err <= opt.atol + opt.rtol * std::abs(numeric))) {
      res.ok = false;
      if (reported++ < 8) rep << what << ": analytic " << analytic << " vs numeric " << numeric << "\n";
    }
  };

  for (size_t i = 0; i < xs.size(); ++i) {
    if (!check[i]) continue;
    Tensor ga = grad_of(xs[i]);
    std::vector<double> an = ga.defined() ? ga.to_vector<double>() : std::vector<double>(xs[i].numel(), 0.0);
    double* p = xs[i].data<double>();
    const int64_t n = xs[i].numel();
    if (!opt.random_directions) {
      for (int64_t j = 0; j < n; ++j) {
        const double orig = p[j];
        p[j] = orig + opt.eps;
        const double lp = objective(f, xs, R);
        p[j] = orig - opt.eps;
        const double lm = objective(f, xs, R);
        p[j] = orig;
        compare("input " + std::to_string(i) + " element " + std::to_string(j), an[j], (lp - lm) / (2 * opt.eps));
      }
    } else {
      for (int k = 0; k < opt.num_directions; ++k) {
        std::vector<double> v(n);
        double norm = 0;
        for (auto& e : v) {
          e = gen.normal();
          norm += e * e;
        }
        norm = std::sqrt(norm);
        double dir = 0;
        std::vector<double> orig(p, p + n);
        for (int64_t j = 0; j < n; ++j) dir += an[j] * (v[j] /= norm);
        for (int64_t j = 0; j < n; ++j) p[j] = orig[j] + opt.eps * v[j];
        const double lp = objective(f, xs, R);
        for (int64_t j = 0; j < n; ++j) p[j] = orig[j] - opt.eps * v[j];
        const double lm = objective(f, xs, R);
        for (int64_t j = 0; j < n; ++j) p[j] = orig[j];
        compare("input " + std::to_string(i) + " direction " + std::to_string(k), dir, (lp - lm) / (2 * opt.eps));
      }
    }
  }
  res.report = rep.str();
  return res;
}

}  // namespace gs
