// Shape: the small vector behind every tensor's dims and strides. The oracle is std::vector:
// the same random edits applied to both must leave the same elements, on either side of the
// inline capacity (where the storage moves between the object and the heap).
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "autograd/ops.h"
#include "tensor/ops.h"

using namespace gs;

namespace {

bool same(const Shape& s, const std::vector<int64_t>& v) {
  return s.size() == v.size() && std::equal(v.begin(), v.end(), s.begin()) && s.empty() == v.empty();
}

}  // namespace

TEST_CASE("Shape: random edits agree with std::vector across the inline capacity", "[tensor][shape]") {
  std::mt19937_64 rng(11);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  for (int trial = 0; trial < 200; ++trial) {
    Shape s;
    std::vector<int64_t> v;
    for (int step = 0; step < 60; ++step) {
      const int64_t x = static_cast<int64_t>(rng() % 1000) - 500;
      switch (pick(v.size() > 2 * Shape::kInline ? 9 : 7)) {
        case 0: s.push_back(x); v.push_back(x); break;
        case 1: {
          const size_t at = pick(v.size() + 1);
          s.insert(s.begin() + at, x);
          v.insert(v.begin() + static_cast<std::ptrdiff_t>(at), x);
          break;
        }
        case 2: {  // a range from inside itself: the source may move while the gap opens
          if (v.empty()) break;
          const size_t a = pick(v.size()), b = a + pick(v.size() - a + 1), at = pick(v.size() + 1);
          const std::vector<int64_t> src(v.begin() + static_cast<std::ptrdiff_t>(a), v.begin() + static_cast<std::ptrdiff_t>(b));
          s.insert(s.begin() + at, s.begin() + a, s.begin() + b);
          v.insert(v.begin() + static_cast<std::ptrdiff_t>(at), src.begin(), src.end());
          break;
        }
        case 3: {
          const size_t n = pick(3 * Shape::kInline);
          s.resize(n, x);
          v.resize(n, x);
          break;
        }
        case 4: {  // copies and moves, heap or inline, into a shape that may be either
          Shape c = s;
          Shape m = std::move(c);
          REQUIRE(c.empty());
          Shape t(5, 7);
          t = m;
          s = std::move(t);
          break;
        }
        case 5:
          if (!v.empty()) {
            s[s.size() - 1] = x;
            v.back() = x;
          }
          break;
        case 6: {
          const Shape fresh(v);
          s = fresh;
          break;
        }
        default: {  // erase a range
          const size_t a = pick(v.size()), b = a + pick(v.size() - a + 1);
          s.erase(s.begin() + a, s.begin() + b);
          v.erase(v.begin() + static_cast<std::ptrdiff_t>(a), v.begin() + static_cast<std::ptrdiff_t>(b));
        }
      }
      REQUIRE(same(s, v));
      REQUIRE(s.to_vector() == v);
      REQUIRE(s == Shape(v));
    }
  }
}

TEST_CASE("Shape: comparison, construction and conversion like std::vector", "[tensor][shape]") {
  const Shape a{2, 3}, b{2, 3, 1};
  REQUIRE(a != b);
  REQUIRE(a == Shape(std::vector<int64_t>{2, 3}));
  REQUIRE(Shape(3) == Shape{0, 0, 0});
  REQUIRE(Shape(2, 9) == Shape{9, 9});
  REQUIRE(Shape{} < a);
  REQUIRE(a < b);
  const std::vector<int64_t> v(a);
  REQUIRE(v == std::vector<int64_t>{2, 3});
  Shape big(20, 1);
  REQUIRE(big.capacity() >= 20);
  REQUIRE(numel_of(big) == 1);
  REQUIRE(shape_str(Shape{4, 1}) == "[4, 1]");
  REQUIRE(Shape(v.rbegin(), v.rend()) == Shape{3, 2});
}

TEST_CASE("record reuses the output only when the caller gives up its handle", "[autograd][shape]") {
  const Tensor x = requires_grad(ones({3}, kFloat64));
  // A caller that keeps its plain output and records it: the kept handle stays outside the graph.
  const Tensor plain = op::mul(x, x);
  const Tensor rec = record(
      "mul", plain, {x, x}, [x](const Tensor& g) { return grads(op::mul(g, x), op::mul(g, x)); });
  REQUIRE(grad_fn(rec) != nullptr);
  REQUIRE(grad_fn(plain) == nullptr);
  REQUIRE_FALSE(requires_grad_flag(plain));
  // An op handed back unchanged (contiguous of a contiguous tensor) keeps its input's history.
  const Tensor y = gs::add(x, x);
  const Tensor z = gs::contiguous(y);
  REQUIRE(grad_fn(z) != grad_fn(y));
  REQUIRE(grad_fn(y)->op == "add");
  gs::backward(gs::sum(z));
  REQUIRE(grad_of(x).to_vector<double>() == std::vector<double>{2, 2, 2});
}
