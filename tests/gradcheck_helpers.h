#pragma once
// Shared by the gradcheck test files: run gradcheck and fail with its report.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <set>

#include "autograd/gradcheck.h"
#include "autograd/node.h"
#include "autograd/variable.h"
#include "tensor/convert.h"
#include "tensor/creation.h"

namespace gs::testing {

// The ops in the backward graph of f(inputs): what a passing gradcheck actually covered.
inline std::set<std::string> ops_in_graph(const GradcheckFn& f, const std::vector<Tensor>& inputs) {
  std::vector<Tensor> xs;
  for (const Tensor& t : inputs)
    xs.push_back(t.defined() && t.dtype() == kFloat64 ? requires_grad(op::clone(t)) : t);
  std::set<std::string> ops;
  std::vector<Node*> stack;
  std::set<Node*> seen;
  const Tensor out = f(xs);  // keeps the graph alive while we walk it
  if (auto fn = grad_fn(out)) stack.push_back(fn.get());
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second) continue;
    ops.insert(n->op);
    for (const Edge& e : n->inputs)
      if (e.fn) stack.push_back(e.fn.get());
  }
  return ops;
}

// Runs gradcheck and fails with its report. When GS_GRADCHECK_COVERAGE names a file, the ops the
// check covered are appended to it: ctest's gradcheck_coverage test reads that file and fails for
// any op of autograd/registry.cpp that no passing gradcheck covered.
inline void require_gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs, const GradcheckOptions& opt = {}) {
  const GradcheckResult r = gradcheck(f, inputs, opt);
  INFO(r.report);
  REQUIRE(r.checked > 0);
  REQUIRE(r.ok);
  if (const char* path = std::getenv("GS_GRADCHECK_COVERAGE")) {
    std::ofstream out(path, std::ios::app);
    for (const auto& name : ops_in_graph(f, inputs)) out << name << "\n";
  }
}

// Float64 normal inputs from a fixed seed (each test its own generator: order-independent).
inline Tensor rnd(const Shape& s, uint64_t seed, double mean = 0, double std = 1) {
  Generator g(seed);
  return randn(s, g, kFloat64, mean, std);
}
// Strictly positive inputs for log/sqrt/pow/div denominators.
inline Tensor pos(const Shape& s, uint64_t seed) {
  Generator g(seed);
  return uniform(s, g, 0.5, 2.0, kFloat64);
}

}  // namespace gs::testing
