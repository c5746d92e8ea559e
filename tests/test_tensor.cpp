// Tensor layer: creation, views (shared storage, strides), contiguous, broadcasting, printing,
// random generators, dtype conversion.
#include <catch2/catch.hpp>

#include <limits>

#include "tensor/ops.h"

using namespace gs;
using Catch::Matchers::Contains;

TEST_CASE("creation: zeros, ones, full, arange, from_vector, initializer lists", "[tensor]") {
  REQUIRE(zeros({2, 3}).to_vector<float>() == std::vector<float>(6, 0.f));
  REQUIRE(ones({4}, kFloat64).to_vector<double>() == std::vector<double>(4, 1.0));
  REQUIRE(full({2}, 2.5).to_vector<double>() == std::vector<double>{2.5, 2.5});
  REQUIRE(arange(5).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4});
  REQUIRE(arange(1.0, 2.0, 0.25, kFloat64).to_vector<double>() == std::vector<double>{1, 1.25, 1.5, 1.75});
  Tensor t = tensor({{1, 2, 3}, {4, 5, 6}});
  REQUIRE(t.shape() == Shape{2, 3});
  REQUIRE(t.dtype() == kFloat32);
  REQUIRE(t.to_vector<int64_t>() == std::vector<int64_t>{1, 2, 3, 4, 5, 6});
  REQUIRE(scalar(3.0).item<double>() == 3.0);
  REQUIRE(scalar(3.0).dim() == 0);
  REQUIRE_THROWS_WITH(from_vector(std::vector<float>{1, 2, 3}, {2, 2}), Contains("from_vector") && Contains("[2, 2]"));
  REQUIRE_THROWS_WITH(tensor({{1, 2}, {3}}), Contains("ragged"));
  REQUIRE_THROWS_WITH(arange(0.0, 1.0, 0.0), Contains("arange: step must be nonzero"));
}

TEST_CASE("views share storage and compute strides", "[tensor][views]") {
  Tensor x = from_vector(std::vector<double>{0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor t = op::transpose(x, 0, 1);
  REQUIRE(t.shape() == Shape{3, 2});
  REQUIRE(t.strides() == Shape{1, 3});
  REQUIRE_FALSE(t.is_contiguous());
  REQUIRE(t.impl()->storage == x.impl()->storage);
  REQUIRE(t.to_vector<double>() == std::vector<double>{0, 3, 1, 4, 2, 5});
  REQUIRE(op::contiguous(t).is_contiguous());
  REQUIRE(op::contiguous(x).same(x));  // no copy when already contiguous

  Tensor n = op::narrow(x, 1, 1, 2);
  REQUIRE(n.to_vector<double>() == std::vector<double>{1, 2, 4, 5});
  REQUIRE(n.offset() == 1);
  Tensor s = op::slice(x, 1, 0, 3, 2);
  REQUIRE(s.to_vector<double>() == std::vector<double>{0, 2, 3, 5});

  Tensor e = op::expand(from_vector(std::vector<double>{7, 8}, {2, 1}), {2, 3});
  REQUIRE(e.strides()[1] == 0);
  REQUIRE(e.to_vector<double>() == std::vector<double>{7, 7, 7, 8, 8, 8});

  Tensor u = op::unsqueeze(x, 0);
  REQUIRE(u.shape() == Shape{1, 2, 3});
  REQUIRE(op::squeeze(u, 0).shape() == Shape{2, 3});
  REQUIRE(op::squeeze(op::reshape(x, {1, 6, 1})).shape() == Shape{6});
  REQUIRE(op::permute(op::reshape(x, {1, 2, 3}), {2, 0, 1}).shape() == Shape{3, 1, 2});

  // writing through a view is visible in the base (shared storage)
  op::copy_(op::narrow(x, 0, 1, 1), from_vector(std::vector<double>{9, 9, 9}, {1, 3}));
  REQUIRE(x.to_vector<double>() == std::vector<double>{0, 1, 2, 9, 9, 9});
}

TEST_CASE("reshape is a view when strides allow it, a copy otherwise, view refuses", "[tensor][views]") {
  Tensor x = op::reshape(arange(24, kFloat64), {2, 3, 4});
  Tensor r = op::reshape(x, {6, 4});
  REQUIRE(r.impl()->storage == x.impl()->storage);
  REQUIRE(op::reshape(x, {-1, 12}).shape() == Shape{2, 12});
  Tensor t = op::transpose(x, 1, 2);  // [2, 4, 3], not mergeable
  REQUIRE_THROWS_WITH(op::view(t, {8, 3}), Contains("view: cannot view [2, 4, 3]"));
  Tensor c = op::reshape(t, {8, 3});
  REQUIRE(c.impl()->storage != x.impl()->storage);
  REQUIRE(c.to_vector<double>() == op::contiguous(t).to_vector<double>());
  // merging only the dims that are still contiguous works as a view
  Tensor v = op::view(op::transpose(x, 0, 1), {3, 2, 2, 2});
  REQUIRE(v.impl()->storage == x.impl()->storage);
  REQUIRE(v.to_vector<double>() == op::contiguous(op::transpose(x, 0, 1)).to_vector<double>());
  REQUIRE_THROWS_WITH(op::reshape(x, {5, 5}), Contains("reshape: cannot reshape [2, 3, 4]"));
  REQUIRE_THROWS_WITH(op::reshape(x, {-1, -1}), Contains("only one dimension can be -1"));
}

TEST_CASE("broadcasting follows NumPy rules", "[tensor][broadcast]") {
  REQUIRE(broadcast_shapes("add", {3, 1, 5}, {4, 1}) == Shape{3, 4, 5});
  REQUIRE(broadcast_shapes("add", {}, {2, 2}) == Shape{2, 2});
  REQUIRE_THROWS_WITH(broadcast_shapes("add", {3, 2}, {3}), Contains("add: shapes [3, 2] and [3] cannot be broadcast"));
  Tensor a = from_vector(std::vector<double>{1, 2, 3}, {3, 1});
  Tensor b = from_vector(std::vector<double>{10, 20}, {2});
  REQUIRE(op::add(a, b).to_vector<double>() == std::vector<double>{11, 21, 12, 22, 13, 23});
  // a strided (transposed) operand through the general kernel path
  Tensor m = op::reshape(arange(6, kFloat64), {2, 3});
  REQUIRE(op::mul(op::transpose(m, 0, 1), 2.0).to_vector<double>() == std::vector<double>{0, 6, 2, 8, 4, 10});
}

TEST_CASE("generators are reproducible and have the right moments", "[tensor][random]") {
  Generator g1(42), g2(42), g3(43);
  Tensor a = randn({20000}, g1, kFloat64), b = randn({20000}, g2, kFloat64), c = randn({20000}, g3, kFloat64);
  REQUIRE(a.to_vector<double>() == b.to_vector<double>());
  REQUIRE(a.to_vector<double>() != c.to_vector<double>());
  // mean ~ N(0, 1/n): |mean| < 5 sigma = 5 / sqrt(20000) ~ 0.035; var within 5% of 1
  REQUIRE(std::abs(op::mean(a).item<double>()) < 0.035);
  REQUIRE(std::abs(op::mean(op::mul(a, a)).item<double>() - 1.0) < 0.05);
  Tensor u = uniform({10000}, g1, -2, 3, kFloat64);
  auto uv = u.to_vector<double>();
  REQUIRE(*std::min_element(uv.begin(), uv.end()) >= -2);
  REQUIRE(*std::max_element(uv.begin(), uv.end()) < 3);
  REQUIRE(std::abs(op::mean(u).item<double>() - 0.5) < 0.1);
  // state save/restore replays the same numbers (checkpoint/resume)
  auto st = g1.state();
  double x1 = g1.normal();
  g1.set_state(st);
  REQUIRE(g1.normal() == x1);
  Tensor r = randint({1000}, 7, g1);
  auto rv = r.to_vector<int64_t>();
  REQUIRE(*std::min_element(rv.begin(), rv.end()) == 0);
  REQUIRE(*std::max_element(rv.begin(), rv.end()) == 6);
}

TEST_CASE("dtype conversion, item, printing", "[tensor]") {
  Tensor x = tensor({1.5, -2.5, 3.0}, kFloat64);
  REQUIRE(op::to(x, kInt64).to_vector<int64_t>() == std::vector<int64_t>{1, -2, 3});
  REQUIRE(op::to(x, kFloat32).dtype() == kFloat32);
  {  // floating -> int64 is defined for every input (ops_cpu/copy.h): NaN -> 0, saturation
    const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
    const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
    const std::vector<double> v = {nan, inf, -inf, 1e30, -1e30, 9223372036854775808.0, -9223372036854775808.0,
                                   9223372036854774784.0, -2.9, 2.9};
    const std::vector<int64_t> want = {0, hi, lo, hi, lo, hi, lo, 9223372036854774784, -2, 2};
    CHECK(op::to(from_vector(v), kInt64).to_vector<int64_t>() == want);
    // float32: the same, where 2^63 and -2^63 are the nearest floats to the bounds
    const std::vector<int64_t> want32 = {0, hi, lo, hi, lo, hi, lo, hi, -2, 2};  // 2^63 - 1024 rounds up to 2^63
    CHECK(op::to(op::to(from_vector(v), kFloat32), kInt64).to_vector<int64_t>() == want32);
  }
  REQUIRE_THROWS_WITH(x.item<double>(), Contains("item: tensor of shape [3] has 3 elements, not 1"));
  REQUIRE_THROWS_WITH(x.data<float>(), Contains("data: tensor holds float64, requested float32"));
  const std::string s = op::reshape(arange(6), {2, 3}).to_string();
  REQUIRE(s.find("[[0, 1, 2],") != std::string::npos);
  REQUIRE(s.find("shape=[2, 3], dtype=int64") != std::string::npos);
  // up to 1000 elements everything is printed (an [8, 4] gradient shows all 8 rows); beyond, each
  // long dim keeps its first and last 3 entries around "..."
  const std::string small = op::reshape(arange(32), {8, 4}).to_string();
  CHECK(small.find("...") == std::string::npos);
  CHECK(small.find("[28, 29, 30, 31]]") != std::string::npos);
  CHECK(small.find("[12, 13, 14, 15],") != std::string::npos);  // a middle row
  CHECK(arange(1000).to_string().find("...") == std::string::npos);
  const std::string big = arange(1001).to_string();
  CHECK(big.find("[0, 1, 2, ..., 998, 999, 1000]") != std::string::npos);
  const std::string big2 = op::reshape(arange(2000), {100, 20}).to_string();
  CHECK(big2.find("[[0, 1, 2, ..., 17, 18, 19],") != std::string::npos);
  CHECK(big2.find("[1980, 1981, 1982, ..., 1997, 1998, 1999]]") != std::string::npos);
  CHECK(big2.find("[60,") == std::string::npos);  // row 3 is elided
  CHECK(op::reshape(arange(2000), {2, 1000}).to_string(4000).find("...") == std::string::npos);
  REQUIRE(Tensor().to_string() == "tensor(undefined)");
  REQUIRE_THROWS_WITH(Tensor().shape(), Contains("undefined tensor"));
}

TEST_CASE("a build without CUDA says so by op name", "[tensor][cuda-stub]") {
  if (cuda_available()) {
    SUCCEED("CUDA device present: nothing to check here");
    return;
  }
  REQUIRE_THROWS_AS(op::to(ones({2}), Device::CUDA), Error);
  if (!cuda_built()) {
    REQUIRE_THROWS_WITH(op::to(ones({2}), Device::CUDA),
                        "to(cuda): no CUDA implementation in this build (configure with -DGRADSCOPE_CUDA=ON)");
  }
}
