// Gradcheck (float64, eps 1e-6, atol 1e-8, rtol 1e-6) for the elementwise, shape and linalg
// families, including broadcast and view variants.
#include "autograd/ops.h"
#include "tensor/ops.h"
#include "gradcheck_helpers.h"

using namespace gs;
using gs::testing::pos;
using gs::testing::require_gradcheck;
using gs::testing::rnd;

TEST_CASE("gradcheck: binary ops with broadcasting", "[gradcheck][elementwise]") {
  // [3, 4] with [4] and [3, 1]: both broadcast directions go through sum_to.
  const Tensor a = rnd({3, 4}, 1), b = rnd({4}, 2), c = rnd({3, 1}, 3), p = pos({3, 4}, 4), q = pos({4}, 5);
  require_gradcheck([](auto& x) { return add(x[0], x[1]); }, {a, b});
  require_gradcheck([](auto& x) { return sub(x[1], x[0]); }, {a, c});
  require_gradcheck([](auto& x) { return mul(x[0], x[1]); }, {a, c});
  require_gradcheck([](auto& x) { return div(x[0], x[1]); }, {a, q});
  require_gradcheck([](auto& x) { return pow(x[0], x[1]); }, {p, b});
  require_gradcheck([](auto& x) { return maximum(x[0], x[1]); }, {a, b});
  require_gradcheck([](auto& x) { return minimum(x[0], x[1]); }, {a, c});
}

TEST_CASE("gradcheck: scalar variants and operators", "[gradcheck][elementwise]") {
  const Tensor a = rnd({2, 3}, 6), p = pos({2, 3}, 7);
  require_gradcheck([](auto& x) { return (x[0] + 2.0) * 3.0 - x[0] / 4.0; }, {a});
  require_gradcheck([](auto& x) { return pow(x[0], 2.5); }, {p});
  require_gradcheck([](auto& x) { return 1.0 - x[0] * x[0]; }, {a});
}

TEST_CASE("gradcheck: unary ops", "[gradcheck][elementwise]") {
  // Inputs kept away from the kinks of relu and abs (|x| > 0.1), where finite differences break.
  Tensor a = rnd({3, 5}, 8);
  a = op::add(a, op::mul(op::sub(op::mul(op::gt(a, 0.0), 2.0), 1.0), 0.2));
  const Tensor p = pos({3, 5}, 9);
  require_gradcheck([](auto& x) { return neg(x[0]); }, {a});
  require_gradcheck([](auto& x) { return exp(x[0]); }, {a});
  require_gradcheck([](auto& x) { return log(x[0]); }, {p});
  require_gradcheck([](auto& x) { return sqrt(x[0]); }, {p});
  require_gradcheck([](auto& x) { return tanh(x[0]); }, {a});
  require_gradcheck([](auto& x) { return sigmoid(x[0]); }, {a});
  require_gradcheck([](auto& x) { return relu(x[0]); }, {a});
  require_gradcheck([](auto& x) { return gelu(x[0]); }, {a});
  require_gradcheck([](auto& x) { return silu(x[0]); }, {a});
  require_gradcheck([](auto& x) { return abs(x[0]); }, {a});
}

TEST_CASE("gradcheck: views and layout ops", "[gradcheck][shape]") {
  const Tensor a = rnd({2, 3, 4}, 10), b = rnd({3, 1}, 11), d = rnd({4}, 12);
  require_gradcheck([](auto& x) { return mul(reshape(x[0], {6, 4}), 2.0); }, {a});
  require_gradcheck([](auto& x) { return exp(transpose(x[0], 0, 2)); }, {a});
  require_gradcheck([](auto& x) { return tanh(permute(x[0], {2, 0, 1})); }, {a});
  require_gradcheck([](auto& x) { return exp(narrow(x[0], 1, 1, 2)); }, {a});
  require_gradcheck([](auto& x) { return exp(slice(x[0], 2, 0, 4, 2)); }, {a});
  require_gradcheck([](auto& x) { return mul(expand(x[0], {2, 3, 5}), 1.5); }, {b});
  require_gradcheck([](auto& x) { return exp(squeeze(x[0], 1)); }, {b});
  require_gradcheck([](auto& x) { return exp(unsqueeze(x[0], 0)); }, {d});
  // a non-contiguous view made contiguous, then reshaped (the reshape copies)
  require_gradcheck([](auto& x) { return reshape(contiguous(transpose(x[0], 1, 2)), {-1}); }, {a});
  require_gradcheck([](auto& x) { return reshape(transpose(x[0], 1, 2), {2, 12}); }, {a});
  require_gradcheck([](auto& x) { return mul(flatten(x[0]), 3.0); }, {a});
}

TEST_CASE("gradcheck: dtype conversion", "[gradcheck][shape]") {
  // to(float32) and back loses precision: the composite is checked at float32 resolution.
  GradcheckOptions o;
  o.eps = 1e-3;
  o.atol = 1e-3;
  o.rtol = 1e-2;
  require_gradcheck([](auto& x) { return to(mul(to(x[0], kFloat32), 2.0), kFloat64); }, {rnd({3}, 13)}, o);
}

TEST_CASE("gradcheck: matmul 2-d, batched and broadcast, transposed views", "[gradcheck][linalg]") {
  require_gradcheck([](auto& x) { return matmul(x[0], x[1]); }, {rnd({3, 4}, 14), rnd({4, 5}, 15)});
  require_gradcheck([](auto& x) { return matmul(x[0], x[1]); }, {rnd({2, 3, 4}, 16), rnd({2, 4, 2}, 17)});
  require_gradcheck([](auto& x) { return matmul(x[0], x[1]); }, {rnd({2, 3, 4}, 18), rnd({4, 2}, 19)});
  require_gradcheck([](auto& x) { return matmul(x[0], x[1]); }, {rnd({3, 4}, 20), rnd({2, 1, 4, 2}, 21)});
  require_gradcheck([](auto& x) { return matmul(transpose(x[0], 0, 1), transpose(x[1], 0, 1)); },
                    {rnd({4, 3}, 22), rnd({5, 4}, 23)});
  // a Linear layer's shape: 4-d input, shared transposed weight (one folded product forward, one
  // flattened product for the weight's gradient)
  require_gradcheck([](auto& x) { return matmul(x[0], transpose(x[1], 0, 1)); }, {rnd({2, 2, 3, 4}, 26), rnd({5, 4}, 27)});
}

TEST_CASE("matmul with a shared 2-d operand equals the per-batch products", "[tensor][linalg]") {
  // the folded single gemm against each batch's own 2-d product (exact: same dot products)
  const Tensor a = rnd({3, 2, 4, 5}, 28), w = rnd({6, 5}, 29);
  const Tensor y = op::matmul(a, w, false, true);
  REQUIRE(y.shape() == Shape{3, 2, 4, 6});
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 2; ++j) {
      const Tensor ref = op::matmul(op::reshape(op::narrow(op::narrow(a, 0, i, 1), 1, j, 1), {4, 5}), w, false, true);
      const auto got = op::reshape(op::narrow(op::narrow(y, 0, i, 1), 1, j, 1), {4, 6}).to_vector<double>();
      const auto want = ref.to_vector<double>();
      for (size_t k = 0; k < want.size(); ++k) REQUIRE(got[k] == Approx(want[k]).epsilon(1e-14));
    }
}

TEST_CASE("x @ transpose(W) leaves W a contiguous gradient equal to g^T x", "[autograd][linalg]") {
  // Linear's form: the weight gradient is computed in W's own layout (no strided copy later)
  for (const Shape& xs : {Shape{4, 5}, Shape{3, 4, 5}}) {
    const Tensor x = requires_grad(rnd(xs, 30)), W = requires_grad(rnd({6, 5}, 31));
    const Tensor y = matmul(x, transpose(W, 0, 1));
    const Tensor g = rnd(y.shape(), 32);
    backward(y, g);
    const Tensor gw = grad_of(W);
    REQUIRE(gw.is_contiguous());
    const Tensor ref = op::matmul(op::reshape(g, {-1, 6}), op::reshape(x, {-1, 5}), true, false);
    const auto got = gw.to_vector<double>(), want = ref.to_vector<double>();
    for (size_t k = 0; k < want.size(); ++k) REQUIRE(got[k] == Approx(want[k]).epsilon(1e-14));
  }
}

TEST_CASE("gradcheck: random-direction variant agrees and catches a wrong gradient", "[gradcheck]") {
  GradcheckOptions o;
  o.random_directions = true;
  require_gradcheck([](auto& x) { return tanh(matmul(x[0], x[1])); }, {rnd({16, 8}, 24), rnd({8, 16}, 25)}, o);
  // A function whose "gradient" is deliberately wrong: a hook doubles the gradient of x.
  const GradcheckResult bad = gradcheck(
      [](const std::vector<Tensor>& x) {
        Tensor y = mul(x[0], 1.0);
        if (requires_grad_flag(y))  // finite differences run under no_grad
          register_hook(y, [](const Tensor& g) -> std::optional<Tensor> { return op::mul(g, 2.0); });
        return y;
      },
      {rnd({4}, 26)});
  REQUIRE_FALSE(bad.ok);
  REQUIRE(bad.report.find("input 0") != std::string::npos);
}
