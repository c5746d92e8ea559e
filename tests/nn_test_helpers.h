#pragma once
// Shared by the nn test files: gradcheck over a module's parameters as well as its inputs.
// gs::gradcheck perturbs only the tensors it is given; a module's weights live inside the module,
// so this check perturbs them in place (they are contiguous float64 leaves) with the same
// objective L = <f(x), R> and the same tolerances (autograd/gradcheck.h: eps 1e-6, atol 1e-8, rtol 1e-6).
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "nn/module.h"
#include "tensor/ops.h"

namespace gs::testing {

struct ModuleGradcheck {
  bool ok = true;
  int64_t checked = 0;
  double max_abs_error = 0;
  std::string report;
};

// f(xs) runs the module; inputs: float64 tensors are checked (cloned into leaves requiring grad),
// int64 ones (tokens) passed through. Every float64 parameter of m is checked too.
inline ModuleGradcheck module_gradcheck(nn::Module& m, const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                        const std::vector<Tensor>& inputs, const GradcheckOptions& opt = {}) {
  std::vector<Tensor> xs;
  std::vector<std::pair<std::string, Tensor>> targets;  // what gets perturbed
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].dtype() == kInt64) {
      xs.push_back(inputs[i]);
      continue;
    }
    xs.push_back(requires_grad(op::clone(inputs[i])));
    targets.emplace_back("input " + std::to_string(i), xs.back());
  }
  for (auto& [name, p] : m.named_parameters()) {
    REQUIRE(p.dtype() == kFloat64);
    REQUIRE(p.is_contiguous());
    targets.emplace_back(name, p);
  }
  m.zero_grad();
  Generator gen(opt.seed);
  Tensor y = f(xs);
  REQUIRE(y.dtype() == kFloat64);
  const Tensor R = randn(y.shape(), gen, kFloat64);
  backward(y, R);
  auto objective = [&] {
    NoGradGuard ng;
    return op::sum(op::mul(f(xs), R)).item<double>();
  };
  ModuleGradcheck res;
  std::ostringstream rep;
  auto compare = [&](const std::string& what, double an, double num) {
    const double err = std::abs(an - num);
    res.max_abs_error = std::max(res.max_abs_error, err);
    ++res.checked;
    if (!(err <= opt.atol + opt.rtol * std::abs(num))) {
      if (res.ok) rep << "mismatches (analytic vs numeric):\n";
      res.ok = false;
      rep << "  " << what << ": " << an << " vs " << num << "\n";
    }
  };
  for (auto& [name, t] : targets) {
    const Tensor g = grad_of(t);
    const int64_t n = t.numel();
    const std::vector<double> an = g.defined() ? g.to_vector<double>() : std::vector<double>(n, 0.0);
    double* p = t.data<double>();
    const std::vector<double> orig(p, p + n);
    if (!opt.random_directions) {
      for (int64_t j = 0; j < n; ++j) {
        p[j] = orig[j] + opt.eps;
        const double lp = objective();
        p[j] = orig[j] - opt.eps;
        const double lm = objective();
        p[j] = orig[j];
        compare(name + "[" + std::to_string(j) + "]", an[j], (lp - lm) / (2 * opt.eps));
      }
    } else {
      for (int k = 0; k < opt.num_directions; ++k) {
        std::vector<double> v(n);
        double norm = 0, dir = 0;
        for (auto& e : v) {
          e = gen.normal();
          norm += e * e;
        }
        for (int64_t j = 0; j < n; ++j) dir += an[j] * (v[j] /= std::sqrt(norm));
        for (int64_t j = 0; j < n; ++j) p[j] = orig[j] + opt.eps * v[j];
        const double lp = objective();
        for (int64_t j = 0; j < n; ++j) p[j] = orig[j] - opt.eps * v[j];
        const double lm = objective();
        for (int64_t j = 0; j < n; ++j) p[j] = orig[j];
        compare(name + " direction " + std::to_string(k), dir, (lp - lm) / (2 * opt.eps));
      }
    }
  }
  m.zero_grad();
  res.report = rep.str();
  return res;
}

inline void require_module_gradcheck(nn::Module& m, const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                     const std::vector<Tensor>& inputs, const GradcheckOptions& opt = {}) {
  const ModuleGradcheck r = module_gradcheck(m, f, inputs, opt);
  INFO(r.report);
  REQUIRE(r.checked > 0);
  REQUIRE(r.ok);
}

inline GradcheckOptions random_directions(int n = 6) {
  GradcheckOptions o;
  o.random_directions = true;
  o.num_directions = n;
  return o;
}

}  // namespace gs::testing
