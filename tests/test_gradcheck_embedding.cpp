// embedding: tensor-layer values and errors, and gradcheck (float64) with repeated indices.
#include "autograd/ops.h"
#include "autograd/ops/embedding.h"
#include "gradcheck_helpers.h"
#include "tensor/embedding.h"
#include "tensor/ops.h"

using namespace gs;
using gs::testing::require_gradcheck;
using gs::testing::rnd;

TEST_CASE("op::embedding gathers rows into [idx..., D]", "[tensor][embedding]") {
  const Tensor w = tensor({{0, 1}, {10, 11}, {20, 21}}, kFloat32);
  const Tensor idx = from_vector<int64_t>({2, 0, 2, 1}, {2, 2});
  const Tensor y = op::embedding(w, idx);
  REQUIRE(y.shape() == Shape{2, 2, 2});
  CHECK(y.to_vector<double>() == std::vector<double>{20, 21, 0, 1, 20, 21, 10, 11});
  // a scalar index gives one row [D]
  CHECK(op::embedding(w, from_vector<int64_t>({1}, {})).shape() == Shape{2});
}

TEST_CASE("op::embedding_backward sums repeated indices", "[tensor][embedding]") {
  const Tensor idx = from_vector<int64_t>({2, 0, 2}, {3});
  const Tensor g = tensor({{1, 2}, {3, 4}, {5, 6}}, kFloat64);
  const Tensor gw = op::embedding_backward(g, idx, 4);
  REQUIRE(gw.shape() == Shape{4, 2});
  CHECK(gw.to_vector<double>() == std::vector<double>{3, 4, 0, 0, 6, 8, 0, 0});
}

TEST_CASE("embedding errors name the op, the index and its position", "[tensor][embedding]") {
  const Tensor w = zeros({10, 3}, kFloat64);
  REQUIRE_THROWS_WITH(op::embedding(w, from_vector<int64_t>({1, 2, 3, 12})),
                      "embedding: index 12 out of range for 10 rows (position 3)");
  REQUIRE_THROWS_WITH(embedding(w, from_vector<int64_t>({-1})),
                      "embedding: index -1 out of range for 10 rows (position 0)");
  REQUIRE_THROWS_WITH(op::embedding(w, tensor({1, 2}, kFloat32)),
                      "embedding: indices must be int64, got float32 [2]");
  REQUIRE_THROWS_WITH(op::embedding(zeros({10}, kFloat64), from_vector<int64_t>({1})),
                      "embedding: weight must be 2-d [V, D], got [10]");
  REQUIRE_THROWS_WITH(op::embedding_backward(zeros({3, 2}, kFloat64), from_vector<int64_t>({1, 2}), 5),
                      "embedding_backward: gradient shape [3, 2] is not the index shape [2] plus one dim");
}

TEST_CASE("gradcheck: embedding with repeated indices", "[gradcheck][embedding]") {
  const Tensor w = rnd({6, 3}, 51);
  const Tensor idx = from_vector<int64_t>({4, 1, 4, 0, 4, 5, 1, 1}, {2, 4});  // 4 and 1 repeat; 2, 3 unused
  require_gradcheck([](auto& v) { return embedding(v[0], v[1]); }, {w, idx});
  // composite: the looked-up rows are scaled and squashed, so each repeat gets a different gradient
  require_gradcheck([](auto& v) { return tanh(mul(embedding(v[0], v[1]), v[0].size(0) * 0.5)); }, {w, idx});
  // gradient flows to the table only: the int64 index input is passed through untouched
  const Tensor w2 = rnd({3, 2}, 52);
  require_gradcheck([](auto& v) { return embedding(v[0], v[1]); }, {w2, from_vector<int64_t>({2, 2, 2})});
}
