// Gradcheck (float64, eps 1e-6, atol 1e-8, rtol 1e-6) for softmax and log_softmax on the last
// axis: 1-d, 2-d, 3-d, a transposed (non-contiguous) input, a broadcast input, a large shift.
#include "autograd/ops.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/softmax.h"
#include "gradcheck_helpers.h"
#include "tensor/ops.h"
#include "tensor/softmax.h"

using namespace gs;
using gs::testing::require_gradcheck;
using gs::testing::rnd;

TEST_CASE("gradcheck: softmax and log_softmax", "[gradcheck][softmax][h1-softmax]") {
  for (bool log_form : {false, true}) {
    CAPTURE(log_form);
    auto f = [log_form](const Tensor& t) { return log_form ? log_softmax(t) : softmax(t); };
    require_gradcheck([&](auto& x) { return f(x[0]); }, {rnd({6}, 201)});
    require_gradcheck([&](auto& x) { return f(x[0]); }, {rnd({3, 5}, 202)});
    require_gradcheck([&](auto& x) { return f(x[0]); }, {rnd({2, 3, 4}, 203, 0, 3)});
    require_gradcheck([&](auto& x) { return f(transpose(x[0], 0, 1)); }, {rnd({4, 3}, 204)});
    require_gradcheck([&](auto& x) { return f(add(x[0], x[1])); }, {rnd({3, 4}, 205), rnd({3, 1}, 206)});
    // shift invariance: a +1000 offset must not change anything (stable kernels)
    require_gradcheck([&](auto& x) { return f(add(x[0], 1000.0)); }, {rnd({2, 5}, 207)});
  }
}

TEST_CASE("softmax tensor ops: values, shapes and errors", "[tensor][softmax][h1-softmax]") {
  const Tensor x = tensor({{0, 0, 0, 0}, {1, 2, 3, 4}}, kFloat64);
  const auto p = op::softmax(x).to_vector();
  const auto lp = op::log_softmax(x).to_vector();
  REQUIRE(p[0] == Approx(0.25));
  double s = 0;
  for (int j = 4; j < 8; ++j) s += p[j];
  REQUIRE(s == Approx(1.0));
  REQUIRE(lp[7] == Approx(std::log(p[7])));
  // float32 and non-contiguous inputs are normalised along the logical last axis
  const Tensor xt = op::transpose(tensor({{1, 10}, {1, 10}}, kFloat32), 0, 1);  // rows [1,1], [10,10]
  REQUIRE(op::softmax(xt).to_vector() == std::vector<double>{0.5, 0.5, 0.5, 0.5});
  REQUIRE_THROWS_WITH(op::softmax(arange(4)), "softmax: expected a floating-point tensor, got int64");
  REQUIRE_THROWS_WITH(op::softmax_backward(op::softmax(x), zeros({2, 3}, kFloat64)),
                      "softmax_backward: gradient shape [2, 3] does not match output [2, 4]");
}
