#pragma once
// Shared by the gradcheck test files: run gradcheck and fail with its report.
#include <catch2/catch.hpp>

#include "autograd/gradcheck.h"
#include "tensor/creation.h"

namespace gs::testing {

inline void require_gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs, const GradcheckOptions& opt = {}) {
  const GradcheckResult r = gradcheck(f, inputs, opt);
  INFO(r.report);
  REQUIRE(r.checked > 0);
  REQUIRE(r.ok);
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
