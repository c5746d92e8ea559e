// Gradcheck (float64, default tolerances) and forward checks of the binary elementwise ops (add,
// sub, mul, div, pow, maximum, minimum) and the index ops (where, masked_fill, concat, embedding)
// on operands that are views: transposed or permuted (non-contiguous), strided (a step-2 slice, a
// narrowed inner dim), expanded (stride 0), in both argument positions, and two views of one leaf
// (its gradients accumulate).
//
// Why: gradcheck clones every float64 input into a contiguous leaf, so a plain gradcheck only ever
// hands an op packed operands. Here each function makes its views from the leaves it is given, so
// the views are what reach the op, forward and vjp. Each view is asserted to have the layout the
// case claims (non-contiguous, or a zero stride), so a change in the view ops cannot quietly turn
// a case into a contiguous one. The forward check compares op(views) with op(contiguous copies of
// the views) bit for bit: the same scalar arithmetic on the same values, so any difference is a
// kernel reading a view with the wrong strides or offset.
//
// split is not here: it has no vjp of its own (its pieces are narrow() views, covered with the
// shape family).
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "autograd/ops.h"
#include "autograd/ops/embedding.h"
#include "autograd/ops/index.h"
#include "gradcheck_helpers.h"
#include "tensor/ops.h"

using namespace gs;
using gs::testing::pos;
using gs::testing::require_gradcheck;
using gs::testing::rnd;

namespace {

using Tensors = std::vector<Tensor>;
// Makes the operands (views) from the inputs: called on the leaves inside the gradcheck function.
using MakeViews = std::function<Tensors(const Tensors&)>;
// Applies the op under test to the operands.
using Apply = std::function<Tensor(const Tensors&)>;

// The layout checks: each passes its view through, so a case states its claim where it makes it.
Tensor non_contiguous(const Tensor& t) {
  REQUIRE_FALSE(t.is_contiguous());
  return t;
}
Tensor zero_stride(const Tensor& t) {
  bool found = false;
  for (size_t d = 0; d < t.shape().size(); ++d)
    if (t.shape()[d] > 1 && t.strides()[d] == 0) found = true;
  REQUIRE(found);
  return t;
}

// The bit patterns of t's elements, row-major: equal vectors mean bitwise-equal float64 tensors
// (-0.0 and 0.0 differ, as they should here).
std::vector<uint64_t> bits(const Tensor& t) {
  const std::vector<double> v = t.to_vector<double>();
  std::vector<uint64_t> b(v.size());
  std::memcpy(b.data(), v.data(), v.size() * sizeof(double));
  return b;
}

// The forward check, then the gradcheck, of apply(views(inputs)).
void check_layout(const std::string& what, const MakeViews& views, const Apply& apply, const Tensors& inputs) {
  INFO(what);
  const Tensors v = views(inputs);
  Tensors packed;
  for (const Tensor& t : v) packed.push_back(op::contiguous(t));
  const Tensor got = apply(v), want = apply(packed);
  REQUIRE(got.shape() == want.shape());
  CHECK(bits(got) == bits(want));
  require_gradcheck([&](const Tensors& x) { return apply(views(x)); }, inputs);
}

// An int64 0/1 pattern of shape s, not aligned with rows or columns (both values in every row of
// the shapes used here).
Tensor pattern(const Shape& s) {
  std::vector<int64_t> v(static_cast<size_t>(numel_of(s)));
  for (size_t k = 0; k < v.size(); ++k) v[k] = (k * 7 + 3) % 5 < 2 ? 1 : 0;
  return from_vector<int64_t>(v, s);
}

enum class Domain {
  any,       // normal values
  positive,  // in [0.5, 2): denominators, pow bases
  distinct,  // all values distinct and at least 4 / n apart: no maximum / minimum ties
};

// Leaves of the given shapes. For Domain::distinct the n values are the midpoints of n equal cells
// of [-2, 2], shuffled (seeded Fisher-Yates), so two different elements differ by >= 4 / n, far
// more than the finite-difference step.
Tensors make_leaves(const std::vector<Shape>& shapes, Domain domain, uint64_t seed) {
  Tensors out;
  if (domain != Domain::distinct) {
    for (const Shape& s : shapes) out.push_back(domain == Domain::positive ? pos(s, seed++) : rnd(s, seed++));
    return out;
  }
  size_t n = 0;
  for (const Shape& s : shapes) n += static_cast<size_t>(numel_of(s));
  std::vector<double> v(n);
  for (size_t k = 0; k < n; ++k) v[k] = -2.0 + 4.0 * (static_cast<double>(k) + 0.5) / static_cast<double>(n);
  Generator g(seed);
  for (size_t k = n; k-- > 1;) std::swap(v[k], v[static_cast<size_t>(g.randint(static_cast<int64_t>(k) + 1))]);
  size_t at = 0;
  for (const Shape& s : shapes) {
    const auto m = static_cast<size_t>(numel_of(s));
    out.push_back(from_vector<double>(std::vector<double>(v.begin() + static_cast<std::ptrdiff_t>(at),
                                                          v.begin() + static_cast<std::ptrdiff_t>(at + m)),
                                      s));
    at += m;
  }
  return out;
}

// min |a - b| over the broadcast operands.
double min_gap(const Tensor& a, const Tensor& b) {
  double m = std::numeric_limits<double>::infinity();
  for (double d : op::abs(op::sub(a, b)).to_vector<double>()) m = std::min(m, d);
  return m;
}

// Two operands reaching an op: the leaves' shapes and the views made from them. Unless
// same_shape is false, both views have one shape (broadcasting is done by expand, explicitly).
struct Layout {
  std::string name;
  std::vector<Shape> leaves;
  MakeViews views;
  bool same_shape = true;  // false: the op itself broadcasts the operands (concat cannot)
  bool ties = false;       // both operands read the same element at some position
};

const std::vector<Layout>& layouts() {
  static const std::vector<Layout> all = {
      {"a transposed, b contiguous", {Shape{4, 3}, Shape{3, 4}},
       [](const Tensors& x) -> Tensors { return {non_contiguous(transpose(x[0], 0, 1)), x[1]}; }},
      {"a and b permuted, with different strides", {Shape{2, 3, 4}, Shape{3, 4, 2}},
       [](const Tensors& x) -> Tensors {
         return {non_contiguous(permute(x[0], {2, 0, 1})), non_contiguous(permute(x[1], {1, 2, 0}))};
       }},
      {"a step-2 slice, b transposed", {Shape{3, 8}, Shape{4, 3}},
       [](const Tensors& x) -> Tensors {
         return {non_contiguous(slice(x[0], 1, 0, 8, 2)), non_contiguous(transpose(x[1], 0, 1))};
       }},
      {"a narrowed inner dim, b contiguous", {Shape{3, 6}, Shape{3, 4}},
       [](const Tensors& x) -> Tensors { return {non_contiguous(narrow(x[0], 1, 1, 4)), x[1]}; }},
      {"a [3, 1] expanded to [3, 4], b contiguous", {Shape{3, 1}, Shape{3, 4}},
       [](const Tensors& x) -> Tensors { return {zero_stride(expand(x[0], {3, 4})), x[1]}; }},
      {"a [1] expanded to [3, 4], b transposed", {Shape{1}, Shape{4, 3}},
       [](const Tensors& x) -> Tensors {
         return {zero_stride(expand(x[0], {3, 4})), non_contiguous(transpose(x[1], 0, 1))};
       }},
      {"a [4] expanded to [3, 4], b step-2 slice", {Shape{4}, Shape{3, 8}},
       [](const Tensors& x) -> Tensors {
         return {zero_stride(expand(x[0], {3, 4})), non_contiguous(slice(x[1], 1, 1, 8, 2))};
       }},
      {"a [3, 1] and b [1, 4] both expanded to [3, 4]", {Shape{3, 1}, Shape{1, 4}},
       [](const Tensors& x) -> Tensors {
         return {zero_stride(expand(x[0], {3, 4})), zero_stride(expand(x[1], {3, 4}))};
       }},
      {"one leaf: its even and its odd columns (step-2 slices)", {Shape{3, 8}},
       [](const Tensors& x) -> Tensors {
         return {non_contiguous(slice(x[0], 1, 0, 8, 2)), non_contiguous(slice(x[0], 1, 1, 8, 2))};
       }},
      // rows 2-3 reach the op through both views: their gradients accumulate on the same elements
      // (never at the same position: a[j][i] = x[i][j], b[j][i] = x[j + 2][i])
      {"one leaf: rows 0-3 transposed, and rows 2-5", {Shape{6, 4}},
       [](const Tensors& x) -> Tensors {
         return {non_contiguous(transpose(narrow(x[0], 0, 0, 4), 0, 1)), narrow(x[0], 0, 2, 4)};
       }},
      {"one leaf: column 0 expanded, and columns 1-3", {Shape{3, 4}},
       [](const Tensors& x) -> Tensors {
         return {zero_stride(expand(narrow(x[0], 1, 0, 1), {3, 3})), non_contiguous(narrow(x[0], 1, 1, 3))};
       }},
      {"one transposed view as both operands", {Shape{4, 3}},
       [](const Tensors& x) -> Tensors {
         const Tensor t = non_contiguous(transpose(x[0], 0, 1));
         return {t, t};
       },
       true, true},
      // [3, 1] with strides [2, 2]: the op broadcasts a strided view
      {"a [3, 1] step-2 slice broadcast by the op, b transposed", {Shape{3, 2}, Shape{4, 3}},
       [](const Tensors& x) -> Tensors {
         return {non_contiguous(slice(x[0], 1, 0, 2, 2)), non_contiguous(transpose(x[1], 0, 1))};
       },
       false},
  };
  return all;
}

// ---- binary elementwise ops ---------------------------------------------------------------------

struct BinaryOp {
  const char* name;
  Tensor (*fn)(const Tensor&, const Tensor&);
  Domain domain;
};

void check_binary_layouts(const BinaryOp& o, uint64_t seed) {
  for (const Layout& l : layouts()) {
    seed += 10;
    // the same element in both positions is a tie, where maximum / minimum have a kink
    if (l.ties && o.domain == Domain::distinct) continue;
    const Tensors leaves = make_leaves(l.leaves, o.domain, seed);
    if (o.domain == Domain::distinct) {
      const Tensors v = l.views(leaves);
      INFO(o.name << ": " << l.name);
      REQUIRE(min_gap(v[0], v[1]) > 1e-3);
    }
    const auto fn = o.fn;
    check_layout(std::string(o.name) + ": " + l.name, l.views, [fn](const Tensors& v) { return fn(v[0], v[1]); },
                 leaves);
    check_layout(std::string(o.name) + ": " + l.name + ", operands swapped", l.views,
                 [fn](const Tensors& v) { return fn(v[1], v[0]); }, leaves);
  }
}

const BinaryOp kAdd{"add", [](const Tensor& a, const Tensor& b) { return gs::add(a, b); }, Domain::any};
const BinaryOp kSub{"sub", [](const Tensor& a, const Tensor& b) { return gs::sub(a, b); }, Domain::any};
const BinaryOp kMul{"mul", [](const Tensor& a, const Tensor& b) { return gs::mul(a, b); }, Domain::any};
const BinaryOp kDiv{"div", [](const Tensor& a, const Tensor& b) { return gs::div(a, b); }, Domain::positive};
const BinaryOp kPow{"pow", [](const Tensor& a, const Tensor& b) { return gs::pow(a, b); }, Domain::positive};
const BinaryOp kMaximum{"maximum", [](const Tensor& a, const Tensor& b) { return gs::maximum(a, b); },
                        Domain::distinct};
const BinaryOp kMinimum{"minimum", [](const Tensor& a, const Tensor& b) { return gs::minimum(a, b); },
                        Domain::distinct};

Tensor where_of(const Tensors& v) { return where(v[2], v[0], v[1]); }
Tensor masked_fill_of(const Tensors& v) { return masked_fill(v[0], v[1], -3.0); }
Tensor embedding_of(const Tensors& v) { return embedding(v[0], v[1]); }

}  // namespace

TEST_CASE("gradcheck layouts: add of transposed, strided and expanded views", "[gradcheck][elementwise]") {
  check_binary_layouts(kAdd, 1000);
}

TEST_CASE("gradcheck layouts: sub of transposed, strided and expanded views", "[gradcheck][elementwise]") {
  check_binary_layouts(kSub, 2000);
}

TEST_CASE("gradcheck layouts: mul of transposed, strided and expanded views", "[gradcheck][elementwise]") {
  check_binary_layouts(kMul, 3000);
}

TEST_CASE("gradcheck layouts: div of transposed, strided and expanded views", "[gradcheck][elementwise]") {
  check_binary_layouts(kDiv, 4000);  // both operands in [0.5, 2): either can be the denominator
}

TEST_CASE("gradcheck layouts: pow of transposed, strided and expanded views", "[gradcheck][elementwise]") {
  check_binary_layouts(kPow, 5000);  // both operands in [0.5, 2): either can be the base
}

TEST_CASE("gradcheck layouts: maximum of transposed, strided and expanded views", "[gradcheck][elementwise]") {
  check_binary_layouts(kMaximum, 6000);
}

TEST_CASE("gradcheck layouts: minimum of transposed, strided and expanded views", "[gradcheck][elementwise]") {
  check_binary_layouts(kMinimum, 7000);
}

// ---- index ops ------------------------------------------------------------------------------------

TEST_CASE("gradcheck layouts: where with view operands in both positions", "[gradcheck][index]") {
  uint64_t seed = 8000;
  for (const Layout& l : layouts()) {
    seed += 10;
    const Tensors leaves = make_leaves(l.leaves, Domain::any, seed);
    const Tensors v = l.views(leaves);
    const Tensor cond = pattern(broadcast_shapes("where", v[0].shape(), v[1].shape()));
    check_layout("where: " + l.name, l.views, [cond](const Tensors& x) { return where(cond, x[0], x[1]); }, leaves);
    check_layout("where: " + l.name + ", operands swapped", l.views,
                 [cond](const Tensors& x) { return where(cond, x[1], x[0]); }, leaves);
  }
}

TEST_CASE("gradcheck layouts: where with a transposed, strided or expanded condition", "[gradcheck][index]") {
  // The int64 condition is a gradcheck input (passed through unchanged) so that its view, too, is
  // made inside the function.
  check_layout(
      "condition transposed; a transposed, b [3, 1] expanded",
      [](const Tensors& x) -> Tensors {
        return {non_contiguous(transpose(x[0], 0, 1)), zero_stride(expand(x[1], {3, 4})),
                non_contiguous(op::transpose(x[2], 0, 1))};
      },
      where_of, {rnd({4, 3}, 8501), rnd({3, 1}, 8502), pattern({4, 3})});
  check_layout(
      "condition [3, 1] expanded; a step-2 slice, b contiguous",
      [](const Tensors& x) -> Tensors {
        return {non_contiguous(slice(x[0], 1, 0, 8, 2)), x[1], zero_stride(op::expand(x[2], {3, 4}))};
      },
      where_of, {rnd({3, 8}, 8503), rnd({3, 4}, 8504), from_vector<int64_t>({1, 0, 1}, {3, 1})});
  check_layout(
      "condition [4] expanded; a and b the even and odd columns of one leaf",
      [](const Tensors& x) -> Tensors {
        return {non_contiguous(slice(x[0], 1, 0, 8, 2)), non_contiguous(slice(x[0], 1, 1, 8, 2)),
                zero_stride(op::expand(x[1], {3, 4}))};
      },
      where_of, {rnd({3, 8}, 8505), from_vector<int64_t>({0, 1, 1, 0}, {4})});
  check_layout(
      "condition step-2 slice; a [1] expanded, b narrowed",
      [](const Tensors& x) -> Tensors {
        return {zero_stride(expand(x[0], {3, 4})), non_contiguous(narrow(x[1], 1, 2, 4)),
                non_contiguous(op::slice(x[2], 1, 1, 8, 2))};
      },
      where_of, {rnd({1}, 8506), rnd({3, 6}, 8507), pattern({3, 8})});
  check_layout(
      "condition [4] step-2 slice broadcast by the op; a transposed, b [4] broadcast by the op",
      [](const Tensors& x) -> Tensors {
        return {non_contiguous(transpose(x[0], 0, 1)), x[1], non_contiguous(op::slice(x[2], 0, 0, 8, 2))};
      },
      where_of, {rnd({4, 3}, 8508), rnd({4}, 8509), pattern({8})});
  check_layout(
      "condition [2, 3] expanded to [4, 2, 3]; a and b permuted",
      [](const Tensors& x) -> Tensors {
        return {non_contiguous(permute(x[0], {2, 0, 1})), non_contiguous(permute(x[1], {1, 2, 0})),
                zero_stride(op::expand(x[2], {4, 2, 3}))};
      },
      where_of, {rnd({2, 3, 4}, 8510), rnd({3, 4, 2}, 8511), pattern({2, 3})});
  // A float64 condition cannot be a gradcheck input (it would be perturbed): captured instead, and
  // its view still made inside the function. a and b are the leaf and its transpose: every element
  // reaches the op through both, so its gradients accumulate.
  const Tensor fcond = op::to(pattern({4, 4}), kFloat64);
  check_layout(
      "float64 condition transposed; a transposed and b the same leaf",
      [fcond](const Tensors& x) -> Tensors {
        return {non_contiguous(transpose(x[0], 0, 1)), x[0], non_contiguous(op::transpose(fcond, 0, 1))};
      },
      where_of, {rnd({4, 4}, 8512)});
}

TEST_CASE("gradcheck layouts: masked_fill of views with transposed, strided or expanded masks", "[gradcheck][index]") {
  // The int64 mask is a gradcheck input (passed through unchanged) so that its view, too, is made
  // inside the function.
  check_layout(
      "x transposed, mask contiguous",
      [](const Tensors& x) -> Tensors { return {non_contiguous(transpose(x[0], 0, 1)), x[1]}; }, masked_fill_of,
      {rnd({4, 3}, 9001), pattern({3, 4})});
  check_layout(
      "x step-2 slice, mask transposed",
      [](const Tensors& x) -> Tensors {
        return {non_contiguous(slice(x[0], 1, 1, 8, 2)), non_contiguous(op::transpose(x[1], 0, 1))};
      },
      masked_fill_of, {rnd({3, 8}, 9002), pattern({4, 3})});
  check_layout(
      "x narrowed inner dim, mask [3, 1] expanded",
      [](const Tensors& x) -> Tensors {
        return {non_contiguous(narrow(x[0], 1, 1, 4)), zero_stride(op::expand(x[1], {3, 4}))};
      },
      masked_fill_of, {rnd({3, 6}, 9003), from_vector<int64_t>({0, 1, 0}, {3, 1})});
  // every element of x reads one of three leaf values: the unfilled ones' gradients sum into them
  check_layout(
      "x [3, 1] expanded, mask step-2 slice",
      [](const Tensors& x) -> Tensors {
        return {zero_stride(expand(x[0], {3, 4})), non_contiguous(op::slice(x[1], 1, 0, 8, 2))};
      },
      masked_fill_of, {rnd({3, 1}, 9004), pattern({3, 8})});
  check_layout(
      "x [1] expanded, mask transposed",
      [](const Tensors& x) -> Tensors {
        return {zero_stride(expand(x[0], {3, 4})), non_contiguous(op::transpose(x[1], 0, 1))};
      },
      masked_fill_of, {rnd({1}, 9005), pattern({4, 3})});
  check_layout(
      "x permuted, mask [2, 3] expanded to [4, 2, 3]",
      [](const Tensors& x) -> Tensors {
        return {non_contiguous(permute(x[0], {2, 0, 1})), zero_stride(op::expand(x[1], {4, 2, 3}))};
      },
      masked_fill_of, {rnd({2, 3, 4}, 9006), pattern({2, 3})});
  check_layout(
      "x transposed, mask [4] step-2 slice broadcast by the op",
      [](const Tensors& x) -> Tensors {
        return {non_contiguous(transpose(x[0], 0, 1)), non_contiguous(op::slice(x[1], 0, 1, 8, 2))};
      },
      masked_fill_of, {rnd({4, 3}, 9007), pattern({8})});
  // A float64 mask cannot be a gradcheck input (it would be perturbed): captured instead, and its
  // view still made inside the function.
  const Tensor fmask = op::to(pattern({4, 3}), kFloat64);
  check_layout(
      "x step-2 slice, float64 mask transposed",
      [fmask](const Tensors& x) -> Tensors {
        return {non_contiguous(slice(x[0], 1, 0, 8, 2)), non_contiguous(op::transpose(fmask, 0, 1))};
      },
      masked_fill_of, {rnd({3, 8}, 9008)});
}

TEST_CASE("gradcheck layouts: concat of views along every dim, both orders", "[gradcheck][index]") {
  uint64_t seed = 10000;
  for (const Layout& l : layouts()) {
    seed += 10;
    if (!l.same_shape) continue;  // concat does not broadcast
    const Tensors leaves = make_leaves(l.leaves, Domain::any, seed);
    const int64_t nd = l.views(leaves)[0].dim();
    for (int64_t d = 0; d < nd; ++d) {
      const std::string what = "concat: " + l.name + ", dim " + std::to_string(d);
      check_layout(what, l.views, [d](const Tensors& x) { return concat({x[0], x[1]}, d); }, leaves);
      check_layout(what + ", operands swapped", l.views, [d](const Tensors& x) { return concat({x[1], x[0]}, d); },
                   leaves);
    }
  }
  // three inputs of different widths, each a different kind of view
  check_layout(
      "concat: transposed, expanded and step-2 slice along dim 1",
      [](const Tensors& x) -> Tensors {
        return {non_contiguous(transpose(x[0], 0, 1)), zero_stride(expand(x[1], {3, 3})),
                non_contiguous(slice(x[2], 1, 1, 4, 2))};
      },
      [](const Tensors& x) { return concat({x[0], x[1], x[2]}, 1); },
      {rnd({2, 3}, 10501), rnd({3, 1}, 10502), rnd({3, 4}, 10503)});
}

TEST_CASE("gradcheck layouts: embedding with a view weight and non-contiguous indices", "[gradcheck][index]") {
  // op::embedding packs a non-contiguous weight (and index) itself, so views are accepted; the
  // int64 index is a gradcheck input (passed through unchanged) so its view is made inside the
  // function too. Indices repeat, and some rows are never looked up.
  check_layout(
      "weight transposed, indices transposed",
      [](const Tensors& x) -> Tensors {
        return {non_contiguous(transpose(x[0], 0, 1)), non_contiguous(op::transpose(x[1], 0, 1))};
      },
      embedding_of, {rnd({3, 6}, 11001), from_vector<int64_t>({4, 1, 4, 0, 5, 1, 2, 4}, {4, 2})});
  check_layout(
      "weight step-2 slice, indices [1, 4] expanded to [3, 4]",
      [](const Tensors& x) -> Tensors {
        return {non_contiguous(slice(x[0], 1, 0, 6, 2)), zero_stride(op::expand(x[1], {3, 4}))};
      },
      embedding_of, {rnd({6, 6}, 11002), from_vector<int64_t>({5, 0, 5, 3}, {1, 4})});
  // the odd columns of the index leaf hold 9, out of range: an index read with the wrong strides
  // fails loudly instead of looking up a wrong row
  check_layout(
      "weight narrowed inner dim, indices step-2 slice",
      [](const Tensors& x) -> Tensors {
        return {non_contiguous(narrow(x[0], 1, 1, 3)), non_contiguous(op::slice(x[1], 1, 0, 8, 2))};
      },
      embedding_of,
      {rnd({6, 5}, 11003), from_vector<int64_t>({1, 9, 2, 9, 1, 9, 4, 9, 3, 9, 0, 9, 3, 9, 5, 9}, {2, 8})});
  // every row of the weight aliases one leaf row: all looked-up rows' gradients sum into it
  check_layout(
      "weight [1, 3] expanded to [6, 3], indices permuted",
      [](const Tensors& x) -> Tensors {
        return {zero_stride(expand(x[0], {6, 3})), non_contiguous(op::permute(x[1], {2, 0, 1}))};
      },
      embedding_of, {rnd({1, 3}, 11004), from_vector<int64_t>({0, 3, 5, 3, 1, 0, 2, 2, 4, 5, 0, 1}, {2, 3, 2})});
}
