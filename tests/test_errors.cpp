// Every kind of mismatch produces the documented message (docs/ERRORS.md): it starts with the
// op and names the shapes, dtypes or indices involved.
#include <catch2/catch.hpp>

#include "autograd/ops.h"
#include "tensor/ops.h"

using namespace gs;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

TEST_CASE("shape mismatches name the op and both shapes", "[errors]") {
  REQUIRE_THROWS_WITH(op::matmul(zeros({4, 3}), zeros({5, 2})), "matmul: shapes [4, 3] and [5, 2] do not align");
  REQUIRE_THROWS_WITH(matmul(zeros({4, 3}), zeros({5, 2})), "matmul: shapes [4, 3] and [5, 2] do not align");
  REQUIRE_THROWS_WITH(op::matmul(zeros({3}), zeros({3, 2})), StartsWith("matmul: operands must be at least 2-d"));
  REQUIRE_THROWS_WITH(op::matmul(zeros({2, 2, 3}), zeros({3, 3, 1})),
                      "matmul: shapes [2] and [3] cannot be broadcast");
  REQUIRE_THROWS_WITH(add(zeros({2, 3}), zeros({4})), "add: shapes [2, 3] and [4] cannot be broadcast");
  REQUIRE_THROWS_WITH(op::where(zeros({2}), zeros({3}), zeros({3})), "where: shapes [2] and [3] cannot be broadcast");
  REQUIRE_THROWS_WITH(op::sum_to(zeros({2, 4}), {3}), "sum_to: shape [3] is not broadcastable to [2, 4]");
  REQUIRE_THROWS_WITH(op::expand(zeros({2, 3}), {4, 3}), "expand: cannot expand [2, 3] to [4, 3]");
}

TEST_CASE("dtype mismatches name the op and both dtypes", "[errors]") {
  REQUIRE_THROWS_WITH(mul(zeros({2}), zeros({2}, kFloat64)), "mul: dtype mismatch: float32 [2] and float64 [2]");
  REQUIRE_THROWS_WITH(op::matmul(zeros({2, 2}), zeros({2, 2}, kFloat64)), "matmul: dtype mismatch: float32 and float64");
  REQUIRE_THROWS_WITH(exp(arange(3)), "exp: expected a floating-point tensor, got int64");
  REQUIRE_THROWS_WITH(op::pow(arange(3), arange(3)), "pow: int64 tensors are not supported");
}

TEST_CASE("dims and ranges out of bounds", "[errors]") {
  REQUIRE_THROWS_WITH(op::transpose(zeros({2, 3}), 0, 2), "transpose: dim 2 out of range for a 2-d tensor");
  REQUIRE_THROWS_WITH(op::narrow(zeros({2, 3}), 1, 2, 2), StartsWith("narrow: start 2 length 2 out of range for dim 1 of size 3"));
  REQUIRE_THROWS_WITH(op::squeeze(zeros({2, 3}), 0), "squeeze: dim 0 of [2, 3] has size 2, not 1");
  REQUIRE_THROWS_WITH(op::permute(zeros({2, 3}), {0, 0}), "permute: dim 0 repeated in [0, 0]");
  REQUIRE_THROWS_WITH(op::sum(zeros({2, 3}), {5}), "sum: dim 5 out of range for a 2-d tensor");
  REQUIRE_THROWS_WITH(empty({2, -1}), "empty: negative dimension in shape [2, -1]");
  // sizes that overflow int64 are refused, not wrapped into a small allocation
  const int64_t big = int64_t{1} << 40;
  const std::string too_large = " is too large: the product of its dimensions exceeds 2^63";
  REQUIRE_THROWS_WITH(empty({big, big}), "empty: shape [1099511627776, 1099511627776]" + too_large);
  // also with a zero dimension: no elements, but the strides would still overflow
  REQUIRE_THROWS_WITH(empty({big, big, 0}), "empty: shape [1099511627776, 1099511627776, 0]" + too_large);
  REQUIRE_THROWS_WITH(empty({int64_t{1} << 62}, kFloat64),
                      "empty: shape [4611686018427387904] of float64 needs more than 2^63 bytes");
  CHECK(empty({big, 0}).numel() == 0);  // a zero dimension whose strides fit: fine
}

TEST_CASE("autograd misuse has clear errors", "[errors]") {
  Tensor x = requires_grad(ones({2}, kFloat64));
  REQUIRE_THROWS_WITH(backward(mul(x, 2.0)), StartsWith("backward: a gradient must be given for a non-scalar root"));
  REQUIRE_THROWS_WITH(backward(mul(x, 2.0), ones({3}, kFloat64)),
                      "backward: gradient shape [3] does not match root shape [2]");
  REQUIRE_THROWS_WITH(backward(ones({1})), "backward: tensor [1] does not require grad");
}
