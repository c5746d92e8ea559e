// Gradcheck (float64, eps 1e-6, atol 1e-5, rtol 1e-3) for the reduce family: sum, mean, max,
// over all dims, one dim, several (adjacent and non-adjacent) dims, keepdim, views and broadcasts.
#include "autograd/ops.h"
#include "autograd/ops/reduce.h"
#include "gradcheck_helpers.h"
#include "tensor/ops.h"

using namespace gs;
using gs::testing::require_gradcheck;
using gs::testing::rnd;

TEST_CASE("gradcheck: sum over all, one, several dims, keepdim", "[gradcheck][reduce][h1-reduce]") {
  const Tensor a = rnd({2, 3, 4}, 101);
  require_gradcheck([](auto& x) { return sum(x[0]); }, {a});
  require_gradcheck([](auto& x) { return sum(x[0], {1}); }, {a});
  require_gradcheck([](auto& x) { return sum(x[0], {-1}, true); }, {a});
  require_gradcheck([](auto& x) { return sum(x[0], {0, 2}); }, {a});        // non-adjacent: permute path
  require_gradcheck([](auto& x) { return sum(x[0], {1, 2}, true); }, {a});  // adjacent block
  require_gradcheck([](auto& x) { return sum(x[0], {2, 0}, true); }, {a});  // unsorted dims
  // a non-contiguous view and a broadcast operand feeding the reduction
  require_gradcheck([](auto& x) { return sum(transpose(x[0], 0, 2), {0}); }, {a});
  require_gradcheck([](auto& x) { return sum(mul(x[0], x[1]), {0, 1}); }, {a, rnd({3, 1}, 102)});
  // 0-d input
  require_gradcheck([](auto& x) { return sum(x[0]); }, {rnd({}, 103)});
}

TEST_CASE("gradcheck: mean over all, one, several dims, keepdim", "[gradcheck][reduce][h1-reduce]") {
  const Tensor a = rnd({3, 2, 5}, 104);
  require_gradcheck([](auto& x) { return mean(x[0]); }, {a});
  require_gradcheck([](auto& x) { return mean(x[0], {2}); }, {a});
  require_gradcheck([](auto& x) { return mean(x[0], {0, 2}, true); }, {a});
  require_gradcheck([](auto& x) { return mean(add(x[0], x[1]), {1}); }, {a, rnd({5}, 105)});
}

TEST_CASE("gradcheck: max routes the gradient to the argmax", "[gradcheck][reduce][h1-reduce]") {
  // randn values are distinct with probability 1 and the nearest pair is far above eps = 1e-6,
  // so the argmax does not change under the perturbation.
  const Tensor a = rnd({3, 4, 5}, 106);
  require_gradcheck([](auto& x) { return max(x[0], 0); }, {a});
  require_gradcheck([](auto& x) { return max(x[0], 1, true); }, {a});
  require_gradcheck([](auto& x) { return max(x[0], -1); }, {a});
  require_gradcheck([](auto& x) { return max(transpose(x[0], 0, 2), 1); }, {a});
  require_gradcheck([](auto& x) { return max(x[0], 0); }, {rnd({7}, 107)});  // to a 0-d result
}

TEST_CASE("reduce vjps: exact values", "[autograd][reduce][h1-reduce]") {
  // sum spreads ones, mean spreads 1/count, max puts the whole gradient on the first maximum.
  Tensor x = requires_grad(tensor({{1, 5, 5}, {4, 2, 0}}, kFloat64));
  backward(sum(max(x, 1)));
  REQUIRE(grad_of(x).to_vector() == std::vector<double>{0, 1, 0, 1, 0, 0});  // tie: first index
  Tensor y = requires_grad(tensor({{1, 2, 3}, {4, 5, 6}}, kFloat64));
  backward(mean(y, {0}, true), ones({1, 3}, kFloat64));
  REQUIRE(grad_of(y).to_vector() == std::vector<double>{0.5, 0.5, 0.5, 0.5, 0.5, 0.5});
  REQUIRE(grad_of(y).is_contiguous());
}
