#pragma once
// Gradient check by central finite differences in float64.
//   L(x) = sum(f(x) * R), R a fixed seeded random tensor, so one backward checks every output
//   element's vjp; each element of each floating input is perturbed by +-eps and
//   |analytic - numeric| <= atol + rtol * |numeric| is required.
// The random-direction variant (for large inputs) compares <grad, v> with the directional
// difference along a few random unit directions v instead of perturbing every element.
#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace gs {

// Tolerances: with eps = 1e-6 the central difference's truncation error is ~eps^2 |f'''| ~ 1e-12
// and its rounding error ~u |L| / eps ~ 1e-10 |L| (u = 1.1e-16, L = <f(x), R> of order 1-10), so
// a correct vjp agrees to ~1e-9 here; atol 1e-8 and rtol 1e-6 leave a factor of 10 and catch a
// vjp that is 1e-5 relative off (the earlier 1e-5 / 1e-3 let 0.05% errors through).
struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-8;
  double rtol = 1e-6;
  bool random_directions = false;
  int num_directions = 4;
  uint64_t seed = 1234;
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;
  int64_t checked = 0;  // elements (or directions) compared
  std::string report;   // the first mismatches: input, index, analytic, numeric
};

using GradcheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

// inputs: float64 tensors are checked (they are made contiguous leaves requiring grad);
// int64 inputs (indices, targets) are passed through unchanged. Throws "gradcheck: ..." for a
// float32 input (finite differences in float32 cannot meet these tolerances).
GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs, const GradcheckOptions& opt = {});

}  // namespace gs
