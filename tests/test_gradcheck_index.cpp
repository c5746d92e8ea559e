// concat / split / where / masked_fill: tensor-layer values and errors, and gradcheck (float64)
// including broadcast masks and conditions.
#include "autograd/ops.h"
#include "autograd/ops/index.h"
#include "gradcheck_helpers.h"
#include "tensor/index.h"
#include "tensor/ops.h"

using namespace gs;
using gs::testing::require_gradcheck;
using gs::testing::rnd;

TEST_CASE("op::concat joins along any dim, int64 included", "[tensor][index]") {
  const Tensor a = from_vector<int64_t>({1, 2, 3, 4}, {2, 2}), b = from_vector<int64_t>({5, 6}, {2, 1});
  const Tensor c = op::concat({a, b}, -1);
  REQUIRE(c.shape() == Shape{2, 3});
  CHECK(c.to_vector<int64_t>() == std::vector<int64_t>{1, 2, 5, 3, 4, 6});
  const Tensor r = op::concat({a, op::transpose(a, 0, 1)}, 0);  // non-contiguous input
  REQUIRE(r.shape() == Shape{4, 2});
  CHECK(r.to_vector<int64_t>() == std::vector<int64_t>{1, 2, 3, 4, 1, 3, 2, 4});
  CHECK(op::concat({a, zeros({0, 2}, kInt64)}, 0).to_vector<int64_t>() == a.to_vector<int64_t>());
}

TEST_CASE("op::split returns views that tile the input", "[tensor][index]") {
  const Tensor x = op::reshape(arange(12, kFloat64), {3, 4});
  auto parts = op::split(x, {1, 3}, 1);
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].shape() == Shape{3, 1});
  CHECK(parts[1].shape() == Shape{3, 3});
  CHECK(parts[1].impl()->storage == x.impl()->storage);  // a view, nothing copied
  CHECK(parts[0].to_vector<double>() == std::vector<double>{0, 4, 8});
  CHECK(op::concat(parts, 1).to_vector<double>() == x.to_vector<double>());
}

TEST_CASE("op::masked_fill with a broadcast causal mask", "[tensor][index]") {
  // mask[i, j] = j > i (upper triangle), broadcast over a batch of 2
  const Tensor mask = op::gt(op::reshape(arange(3, kInt64), {1, 3}), op::reshape(arange(3, kInt64), {3, 1}));
  const Tensor x = zeros({2, 3, 3}, kFloat32);
  const Tensor y = op::masked_fill(x, mask, -1e9);
  auto v = y.to_vector<double>();
  CHECK(v[1] == -1e9f);
  CHECK(v[3] == 0);
  CHECK(v[9 + 5] == -1e9f);  // batch 1, row 1, col 2
  CHECK(v[9 + 7] == 0);
}

TEST_CASE("index op errors name the op and the shapes", "[tensor][index]") {
  REQUIRE_THROWS_WITH(op::concat({zeros({2, 3}), zeros({3, 3})}, 1), "concat: shapes [2, 3] and [3, 3] differ outside dim 1");
  REQUIRE_THROWS_WITH(op::concat({}, 0), "concat: needs at least one tensor");
  REQUIRE_THROWS_WITH(op::concat({zeros({2}), zeros({2}, kFloat64)}, 0),
                      "concat: dtype mismatch: float32 [2] and float64 [2]");
  REQUIRE_THROWS_WITH(op::split(zeros({2, 5}), {2, 2}, 1), "split: sizes [2, 2] sum to 4 but dim 1 of [2, 5] has size 5");
  REQUIRE_THROWS_WITH(op::masked_fill(zeros({3}), zeros({2, 3}), 0.0),
                      "masked_fill: mask shape [2, 3] is not broadcastable to input [3]");
}

TEST_CASE("gradcheck: concat of several inputs, any dim", "[gradcheck][index]") {
  const Tensor a = rnd({2, 3}, 61), b = rnd({2, 1}, 62), c = rnd({2, 2}, 63), d = rnd({4, 3}, 64);
  require_gradcheck([](auto& v) { return concat({v[0], v[1], v[2]}, 1); }, {a, b, c});
  require_gradcheck([](auto& v) { return concat({v[0], v[1]}, 0); }, {a, d});
  // the same input twice (gradients accumulate) and a transposed view
  require_gradcheck([](auto& v) { return concat({v[0], transpose(v[1], 0, 1), v[0]}, -1); }, {a, rnd({3, 2}, 65)});
  require_gradcheck([](auto& v) { return tanh(concat({v[0], v[1]}, 1)); }, {rnd({2, 2, 3}, 66), rnd({2, 1, 3}, 67)});
}

TEST_CASE("gradcheck: split pieces used differently", "[gradcheck][index]") {
  require_gradcheck(
      [](auto& v) {
        auto p = split(v[0], {1, 2, 1}, 1);
        return concat({mul(p[0], 2.0), exp(p[1]), tanh(p[2])}, 1);
      },
      {rnd({3, 4}, 68)});
  require_gradcheck([](auto& v) { return split(v[0], {2, 1}, 0)[0]; }, {rnd({3, 2}, 69)});
}

TEST_CASE("gradcheck: where with broadcast condition and operands", "[gradcheck][index]") {
  const Tensor cond = from_vector<int64_t>({1, 0, 0, 1}, {1, 4});  // broadcast over rows
  const Tensor a = rnd({3, 4}, 70), b = rnd({4}, 71), c = rnd({3, 1}, 72);
  require_gradcheck([cond](auto& v) { return where(cond, v[0], v[1]); }, {a, b});
  require_gradcheck([cond](auto& v) { return where(cond, v[0], v[1]); }, {c, b});  // out [3, 4] from [3, 1], [4]
  // float condition computed from data, and only one operand differentiable
  require_gradcheck([b](auto& v) { return where(op::gt(v[0], 0.0), v[0], b); }, {a});
}

TEST_CASE("gradcheck: masked_fill with broadcast masks", "[gradcheck][index]") {
  const Tensor causal = op::gt(op::reshape(arange(4, kInt64), {1, 4}), op::reshape(arange(4, kInt64), {4, 1}));
  // A moderate fill value: with -1e9 the objective sum(y * R) would carry 1e9-sized terms and the
  // finite differences would drown in their rounding (1e9 * 1e-16 / 1e-6 = 0.1).
  require_gradcheck([causal](auto& v) { return masked_fill(v[0], causal, -7.0); }, {rnd({2, 4, 4}, 73)});
  const Tensor fmask = tensor({{0, 1, 0}}, kFloat64);  // float mask [1, 3] on [2, 3]
  require_gradcheck([fmask](auto& v) { return exp(masked_fill(v[0], fmask, 0.5)); }, {rnd({2, 3}, 74)});
}
