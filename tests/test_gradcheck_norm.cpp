// layer_norm / rms_norm: tensor-layer values and errors, and gradcheck (float64, eps 1e-6,
// atol 1e-8, rtol 1e-6) with and without gamma/beta, 3-d and non-contiguous inputs.
#include <cmath>

#include "autograd/ops.h"
#include "autograd/ops/norm.h"
#include "gradcheck_helpers.h"
#include "tensor/norm.h"
#include "tensor/ops.h"

using namespace gs;
using gs::testing::require_gradcheck;
using gs::testing::rnd;

TEST_CASE("op::layer_norm_forward: values, stats shapes and float32 agreement", "[tensor][norm]") {
  const Tensor x = tensor({{1, 2, 3}, {-2, 0, 8}}, kFloat64);
  const Tensor gamma = tensor({1, 2, 3}, kFloat64), beta = tensor({0, 1, 0}, kFloat64);
  op::NormResult r = op::layer_norm_forward(x, gamma, beta, 0.0);
  REQUIRE(r.mean.shape() == Shape{2});
  REQUIRE(r.rstd.shape() == Shape{2});
  // row 0: mean 2, var 2/3 -> xhat = [-s, 0, s] with s = sqrt(3/2); y = xhat * gamma + beta.
  const double s = std::sqrt(1.5);
  auto y = r.y.to_vector<double>();
  CHECK(y[0] == Approx(-s).epsilon(1e-12));
  CHECK(y[1] == Approx(1.0).epsilon(1e-12));
  CHECK(y[2] == Approx(3 * s).epsilon(1e-12));
  CHECK(r.mean.to_vector<double>()[1] == Approx(2.0).epsilon(1e-12));
  // float32 through the same op agrees with float64 to float rounding (|y| < 5): 1e-5.
  op::NormResult rf = op::layer_norm_forward(op::to(x, kFloat32), op::to(gamma, kFloat32), Tensor(), 1e-5);
  op::NormResult rd = op::layer_norm_forward(x, gamma, Tensor(), 1e-5);
  auto yf = rf.y.to_vector<double>(), yd = rd.y.to_vector<double>();
  for (size_t i = 0; i < yd.size(); ++i) CHECK(std::abs(yf[i] - yd[i]) < 1e-5);
}

TEST_CASE("op::rms_norm_forward: values", "[tensor][norm]") {
  const Tensor x = tensor({3, 4}, kFloat64);  // 1-d: one row, rstd is a scalar
  op::NormResult r = op::rms_norm_forward(x, Tensor(), 0.0);
  REQUIRE(r.rstd.shape() == Shape{});
  REQUIRE_FALSE(r.mean.defined());
  const double rms = std::sqrt(12.5);
  CHECK(r.y.to_vector<double>()[0] == Approx(3 / rms).epsilon(1e-12));
  CHECK(r.y.to_vector<double>()[1] == Approx(4 / rms).epsilon(1e-12));
}

TEST_CASE("norm errors name the op and the shapes", "[tensor][norm]") {
  const Tensor x = zeros({2, 3, 4}, kFloat64);
  REQUIRE_THROWS_WITH(op::layer_norm_forward(x, zeros({5}, kFloat64), Tensor(), 1e-5),
                      "layer_norm: weight shape [5] does not match the last dim of input [2, 3, 4]");
  REQUIRE_THROWS_WITH(layer_norm(x, Tensor(), zeros({4, 1}, kFloat64)),
                      "layer_norm: bias shape [4, 1] does not match the last dim of input [2, 3, 4]");
  REQUIRE_THROWS_WITH(rms_norm(x, zeros({3}, kFloat64)),
                      "rms_norm: weight shape [3] does not match the last dim of input [2, 3, 4]");
  REQUIRE_THROWS_WITH(layer_norm(x, zeros({4}, kFloat32), Tensor()),
                      "layer_norm: weight dtype float32 does not match input dtype float64");
  REQUIRE_THROWS_WITH(layer_norm(zeros({2}, kInt64), Tensor(), Tensor()),
                      "layer_norm: expected a floating-point input, got int64 [2]");
  REQUIRE_THROWS_WITH(op::layer_norm_backward(zeros({2, 3}, kFloat64), x, zeros({2, 3}, kFloat64),
                                              zeros({2, 3}, kFloat64), Tensor(), true),
                      "layer_norm_backward: gradient shape [2, 3] does not match [2, 3, 4] for input [2, 3, 4]");
}

TEST_CASE("gradcheck: layer_norm with and without gamma/beta", "[gradcheck][norm]") {
  const Tensor x = rnd({3, 5}, 31), g = rnd({5}, 32), b = rnd({5}, 33);
  require_gradcheck([](auto& v) { return layer_norm(v[0], v[1], v[2]); }, {x, g, b});
  require_gradcheck([](auto& v) { return layer_norm(v[0], v[1], Tensor()); }, {x, g});
  require_gradcheck([](auto& v) { return layer_norm(v[0], Tensor(), v[1]); }, {x, b});
  require_gradcheck([](auto& v) { return layer_norm(v[0], Tensor(), Tensor()); }, {x});
  // parameters alone (x a constant) and a larger eps
  require_gradcheck([x](auto& v) { return layer_norm(x, v[0], v[1], 0.1); }, {g, b});
}

TEST_CASE("gradcheck: layer_norm on 3-d and non-contiguous inputs", "[gradcheck][norm]") {
  const Tensor x = rnd({2, 3, 4}, 34, 1.0, 2.0), g = rnd({4}, 35), b = rnd({4}, 36);
  require_gradcheck([](auto& v) { return layer_norm(v[0], v[1], v[2]); }, {x, g, b});
  // transposed input: the op makes it contiguous, the gradient maps back through the view
  const Tensor xt = rnd({4, 3}, 37), g4 = rnd({4}, 38);  // transposed: [3, 4]
  require_gradcheck([](auto& v) { return layer_norm(transpose(v[0], 0, 1), v[1], Tensor()); }, {xt, g4});
  // composite: the norm's output feeds another op, so the incoming gradient is not R itself
  require_gradcheck([](auto& v) { return tanh(layer_norm(mul(v[0], 2.0), v[1], v[2])); }, {x, g, b});
}

TEST_CASE("gradcheck: rms_norm with and without gamma", "[gradcheck][norm]") {
  const Tensor x = rnd({3, 6}, 39), g = rnd({6}, 40), x3 = rnd({2, 2, 5}, 41), g5 = rnd({5}, 42);
  require_gradcheck([](auto& v) { return rms_norm(v[0], v[1]); }, {x, g});
  require_gradcheck([](auto& v) { return rms_norm(v[0], Tensor()); }, {x});
  require_gradcheck([](auto& v) { return rms_norm(v[0], v[1], 1e-3); }, {x3, g5});
  require_gradcheck([](auto& v) { return rms_norm(transpose(v[0], 0, 1), Tensor()); }, {rnd({5, 3}, 43)});
}
