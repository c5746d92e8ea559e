// Forward mode (autograd/jvp.h) on every built-in op, checked against reverse mode: for random u
// and v, <u, J v> with J v from jvp() must equal <J^T u, v> with J^T u from grad(). One table of
// cases covers every op of autograd/registry.cpp (a test fails for an op without one; the unary
// ops come from their table, so a new unary op needs no line here). Plus central differences for
// a few nonlinear ops, the argument errors, and that no tangent outlives its call.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "autograd/jvp.h"
#include "autograd/meta.h"
#include "autograd/ops.h"
#include "autograd/registry.h"
#include "gradcheck_helpers.h"
#include "ops_common/unary_ops.h"
#include "tensor/ops.h"

using namespace gs;
using Catch::Matchers::Contains;
using gs::testing::pos;
using gs::testing::rnd;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// f of float64 inputs (each gets a tangent) and int64 ones (indices, targets: passed through).
struct Case {
  std::string label;
  Fn f;
  std::vector<Tensor> inputs;
};

Tensor targets_of(const std::vector<int64_t>& t) { return from_vector<int64_t>(t); }

bool all_finite(const Tensor& t) {
  for (double v : t.to_vector<double>())
    if (!std::isfinite(v)) return false;
  return true;
}

// |x| >= 0.2 everywhere: away from the kinks of relu and abs, where the two modes may legitimately
// pick different one-sided derivatives.
Tensor off_zero(const Shape& s, uint64_t seed) {
  const Tensor a = rnd(s, seed);
  return op::add(a, op::mul(op::sub(op::mul(op::gt(a, 0.0), 2.0), 1.0), 0.2));
}

std::vector<Case> cases() {
  std::vector<Case> cs;
  auto add_case = [&](std::string label, Fn f, std::vector<Tensor> inputs) {
    cs.push_back({std::move(label), std::move(f), std::move(inputs)});
  };

  // elementwise, both broadcast directions; a captured constant leaves one tangent undefined
  const Tensor C34 = rnd({3, 4}, 90);
  add_case("add broadcast", [](auto& x) { return add(x[0], x[1]); }, {rnd({3, 4}, 1), rnd({4}, 2)});
  add_case("add, only the narrow operand varies", [C34](auto& x) { return add(x[0], C34); }, {rnd({4}, 3)});
  add_case("sub broadcast", [](auto& x) { return sub(x[0], x[1]); }, {rnd({3, 1}, 4), rnd({3, 4}, 5)});
  add_case("sub, only the subtrahend varies", [C34](auto& x) { return sub(C34, x[0]); }, {rnd({3, 1}, 6)});
  add_case("mul broadcast", [](auto& x) { return mul(x[0], x[1]); }, {rnd({3, 4}, 7), rnd({3, 1}, 8)});
  add_case("mul by a constant", [C34](auto& x) { return mul(C34, x[0]); }, {rnd({4}, 9)});
  add_case("div broadcast", [](auto& x) { return div(x[0], x[1]); }, {rnd({3, 4}, 10), pos({4}, 11)});
  add_case("div, only the divisor varies", [C34](auto& x) { return div(C34, x[0]); }, {pos({3, 1}, 12)});
  add_case("pow broadcast", [](auto& x) { return pow(x[0], x[1]); }, {pos({3, 4}, 13), rnd({4}, 14)});
  add_case("maximum", [](auto& x) { return maximum(x[0], x[1]); }, {rnd({3, 4}, 15), rnd({4}, 16)});
  add_case("minimum", [](auto& x) { return minimum(x[0], x[1]); }, {rnd({3, 4}, 17), rnd({3, 1}, 18)});
  add_case("maximum against a constant", [C34](auto& x) { return maximum(C34, x[0]); }, {rnd({3, 1}, 19)});
  add_case("scalar variants", [](auto& x) { return sub(div(mul(add(x[0], 2.0), 3.0), 4.0), 1.0); }, {rnd({2, 3}, 20)});
  add_case("pow by a scalar", [](auto& x) { return pow(x[0], 2.5); }, {pos({2, 3}, 21)});
  add_case("neg", [](auto& x) { return neg(x[0]); }, {rnd({2, 3}, 22)});
  uint64_t seed = 30;
  for (kernel::Unary k : kernel::kUnaryOps) {
    // an op defined only for x > 0 (log, sqrt) gets positive inputs
    Tensor x = off_zero({3, 4}, seed);
    if (!all_finite(op::unary(k, x))) x = pos({3, 4}, seed);
    ++seed;
    add_case(std::string("unary ") + kernel::op_name(k), [k](auto& xs) { return unary_op(k, xs[0]); }, {x});
  }

  // views and layout
  add_case("reshape", [](auto& x) { return reshape(x[0], {6, -1}); }, {rnd({2, 3, 4}, 50)});
  add_case("flatten", [](auto& x) { return flatten(x[0]); }, {rnd({2, 3}, 51)});
  add_case("transpose", [](auto& x) { return transpose(x[0], 0, 2); }, {rnd({2, 3, 4}, 52)});
  add_case("permute", [](auto& x) { return permute(x[0], {2, 0, -2}); }, {rnd({2, 3, 4}, 53)});
  add_case("narrow", [](auto& x) { return narrow(x[0], 1, 1, 2); }, {rnd({2, 3, 4}, 54)});
  add_case("slice with a step", [](auto& x) { return slice(x[0], 2, 0, 4, 2); }, {rnd({2, 3, 4}, 55)});
  add_case("expand", [](auto& x) { return expand(x[0], {2, 3, 5}); }, {rnd({3, 1}, 56)});
  add_case("squeeze", [](auto& x) { return squeeze(x[0], 1); }, {rnd({3, 1}, 57)});
  add_case("unsqueeze", [](auto& x) { return unsqueeze(x[0], 0); }, {rnd({4}, 58)});
  add_case("contiguous of a transposed view", [](auto& x) { return contiguous(transpose(x[0], 0, 1)); },
           {rnd({3, 4}, 59)});
  // float64 -> float64: exact, so it can meet the identity's tolerance (float32: a direct check below)
  add_case("to_dtype", [](auto& x) { return to(x[0], kFloat64); }, {rnd({3}, 60)});
  add_case("split", [](auto& x) { return mul(split(x[0], {1, 3}, 1)[1], 2.0); }, {rnd({2, 4}, 61)});

  // linalg
  add_case("matmul 2-d", [](auto& x) { return matmul(x[0], x[1]); }, {rnd({3, 4}, 70), rnd({4, 5}, 71)});
  add_case("matmul batched", [](auto& x) { return matmul(x[0], x[1]); }, {rnd({2, 3, 4}, 72), rnd({2, 4, 2}, 73)});
  add_case("matmul broadcast batch", [](auto& x) { return matmul(x[0], x[1]); }, {rnd({2, 3, 4}, 74), rnd({4, 2}, 75)});
  add_case("matmul of transposed views", [](auto& x) { return matmul(transpose(x[0], 0, 1), transpose(x[1], 0, 1)); },
           {rnd({4, 3}, 76), rnd({5, 4}, 77)});
  const Tensor B = rnd({4, 2}, 78);
  add_case("matmul by a constant", [B](auto& x) { return matmul(x[0], B); }, {rnd({3, 4}, 79)});

  // reductions
  add_case("sum of all", [](auto& x) { return sum(x[0]); }, {rnd({2, 3, 4}, 100)});
  add_case("sum keepdim", [](auto& x) { return sum(x[0], {1}, true); }, {rnd({2, 3, 4}, 101)});
  add_case("mean over two dims", [](auto& x) { return mean(x[0], {0, -1}); }, {rnd({2, 3, 4}, 102)});
  add_case("max", [](auto& x) { return max(x[0], 1); }, {rnd({3, 5}, 103)});
  add_case("max keepdim", [](auto& x) { return max(x[0], 0, true); }, {rnd({3, 5}, 104)});

  // softmax family
  add_case("softmax", [](auto& x) { return softmax(x[0]); }, {rnd({2, 3, 5}, 110, 0, 2)});
  add_case("log_softmax", [](auto& x) { return log_softmax(x[0]); }, {rnd({3, 5}, 111, 0, 2)});

  // losses
  const Tensor t5 = targets_of({3, -100, 0, 2, -100});
  add_case("cross_entropy mean", [](auto& x) { return cross_entropy(x[0], x[1]); }, {rnd({5, 4}, 120, 0, 2), t5});
  add_case("cross_entropy sum", [](auto& x) { return cross_entropy(x[0], x[1], -100, "sum"); },
           {rnd({5, 4}, 121, 0, 2), t5});
  LinearCrossEntropyOptions chunked;
  chunked.chunk = 2;  // three chunks for N = 5: the tangent is summed across them
  add_case("linear_cross_entropy with bias",
           [chunked](auto& x) { return linear_cross_entropy(x[0], x[1], x[2], x[3], chunked); },
           {rnd({5, 3}, 122), rnd({6, 3}, 123), rnd({6}, 124), targets_of({5, -100, 0, 2, 1})});
  LinearCrossEntropyOptions summed = chunked;
  summed.reduction = "sum";
  add_case("linear_cross_entropy sum, no bias",
           [summed](auto& x) { return linear_cross_entropy(x[0], x[1], x[2], summed); },
           {rnd({5, 3}, 125), rnd({6, 3}, 126), targets_of({1, 4, 0, 2, 5})});
  const Tensor W = rnd({6, 3}, 127);
  add_case("linear_cross_entropy, only H varies", [W](auto& x) { return linear_cross_entropy(x[0], W, x[1]); },
           {rnd({4, 3}, 128), targets_of({1, 0, 5, 2})});

  // norms
  add_case("layer_norm", [](auto& x) { return layer_norm(x[0], x[1], x[2]); },
           {rnd({3, 5}, 130, 1, 2), rnd({5}, 131), rnd({5}, 132)});
  add_case("layer_norm without gamma and beta", [](auto& x) { return layer_norm(x[0], Tensor(), Tensor()); },
           {rnd({2, 3, 5}, 133)});
  const Tensor X = rnd({3, 5}, 134);
  add_case("layer_norm, only gamma and beta vary", [X](auto& x) { return layer_norm(X, x[0], x[1]); },
           {rnd({5}, 135), rnd({5}, 139)});
  add_case("rms_norm", [](auto& x) { return rms_norm(x[0], x[1]); }, {rnd({3, 5}, 136, 1, 2), rnd({5}, 137)});
  add_case("rms_norm without gamma", [](auto& x) { return rms_norm(x[0], Tensor()); }, {rnd({4}, 138)});

  // embedding: repeated indices; the indices carry no tangent
  add_case("embedding", [](auto& x) { return embedding(x[0], x[1]); },
           {rnd({6, 3}, 140), from_vector<int64_t>({1, 4, 1, 0, 5, 1}, {2, 3})});

  // index ops
  add_case("concat", [](auto& x) { return concat({x[0], x[1], x[2]}, 1); },
           {rnd({2, 3}, 150), rnd({2, 1}, 151), rnd({2, 2}, 152)});
  const Tensor K = rnd({1, 3}, 153);
  add_case("concat with a constant part", [K](auto& x) { return concat({x[0], K, x[1]}, -2); },
           {rnd({2, 3}, 154), rnd({1, 3}, 155)});
  const Tensor cond = op::gt(rnd({3, 4}, 156), 0.0);
  add_case("where broadcast", [cond](auto& x) { return where(cond, x[0], x[1]); }, {rnd({4}, 157), rnd({3, 1}, 158)});
  add_case("where, only the narrow branch varies", [cond, C34](auto& x) { return where(cond, x[0], C34); },
           {rnd({4}, 159)});
  const Tensor mask = op::gt(rnd({3, 1}, 160), 0.0);
  add_case("masked_fill", [mask](auto& x) { return masked_fill(x[0], mask, -2.0); }, {rnd({3, 4}, 161)});

  // a composite: several ops, one input used twice
  add_case("composite", [](auto& x) { return sum(mul(tanh(matmul(x[0], x[1])), x[0]), {1}); },
           {rnd({3, 3}, 170), rnd({3, 3}, 171)});
  return cs;
}

std::vector<Tensor> random_tangents(const std::vector<Tensor>& inputs, Generator& gen) {
  std::vector<Tensor> vs;
  for (const Tensor& x : inputs)
    vs.push_back(x.defined() && x.dtype() == kFloat64 ? randn(x.shape(), gen, kFloat64) : Tensor());
  return vs;
}

std::vector<Tensor> one(const Tensor& t) { return {t}; }

double dot(const Tensor& a, const Tensor& b) { return op::sum(op::mul(a, b)).item<double>(); }
double abs_dot(const Tensor& a, const Tensor& b) { return op::sum(op::abs(op::mul(a, b))).item<double>(); }

// <u, J v> and <J^T u, v>, with the sum of the absolute products as the scale of both.
struct Adjoint {
  double forward = 0, reverse = 0, scale = 0;
};

Adjoint adjoint(const Case& c, uint64_t seed) {
  Generator gen(seed);
  const std::vector<Tensor> vs = random_tangents(c.inputs, gen);
  const JvpResult fwd = jvp_with_outputs([&](const std::vector<Tensor>& x) { return one(c.f(x)); }, c.inputs, vs);
  REQUIRE(fwd.tangents.size() == 1);
  const Tensor& Jv = fwd.tangents[0];
  REQUIRE(Jv.shape() == fwd.outputs[0].shape());
  REQUIRE(Jv.dtype() == kFloat64);
  const Tensor u = randn(Jv.shape(), gen, kFloat64);

  std::vector<Tensor> xs, leaves;
  for (const Tensor& x : c.inputs) {
    const bool f64 = x.defined() && x.dtype() == kFloat64;
    xs.push_back(f64 ? requires_grad(op::clone(x)) : x);
    if (f64) leaves.push_back(xs.back());
  }
  const std::vector<Tensor> JTu = grad({c.f(xs)}, leaves, {u}, false, /*allow_unused=*/true);

  Adjoint a;
  a.forward = dot(u, Jv);
  a.scale = abs_dot(u, Jv);
  size_t k = 0;
  for (const Tensor& v : vs) {
    if (!v.defined()) continue;
    if (const Tensor& g = JTu[k++]; g.defined()) {
      a.reverse += dot(g, v);
      a.scale += abs_dot(g, v);
    }
  }
  return a;
}

// J v against (f(x + eps v) - f(x - eps v)) / (2 eps), elementwise, with gradcheck's eps and
// tolerances (their error budget is in autograd/gradcheck.h).
void require_central_differences(const Fn& f, const std::vector<Tensor>& inputs, uint64_t seed) {
  Generator gen(seed);
  const std::vector<Tensor> vs = random_tangents(inputs, gen);
  const Tensor Jv = jvp([&](const std::vector<Tensor>& x) { return one(f(x)); }, inputs, vs)[0];
  const double eps = 1e-6;
  std::vector<Tensor> plus, minus;
  for (size_t i = 0; i < inputs.size(); ++i) {
    plus.push_back(vs[i].defined() ? op::add(inputs[i], op::mul(vs[i], eps)) : inputs[i]);
    minus.push_back(vs[i].defined() ? op::sub(inputs[i], op::mul(vs[i], eps)) : inputs[i]);
  }
  NoGradGuard ng;
  const std::vector<double> fd = op::div(op::sub(f(plus), f(minus)), 2 * eps).to_vector<double>();
  const std::vector<double> an = Jv.to_vector<double>();
  REQUIRE(an.size() == fd.size());
  for (size_t k = 0; k < an.size(); ++k) {
    INFO("element " << k << ": jvp " << an[k] << " vs central difference " << fd[k]);
    CHECK(std::abs(an[k] - fd[k]) <= 1e-8 + 1e-6 * std::abs(fd[k]));
  }
}

Tensor meta_tangent(const Tensor& t) {
  const auto& m = t.impl()->autograd;
  return m ? m->tangent : Tensor();
}

}  // namespace

TEST_CASE("jvp agrees with reverse mode on every op: <u, J v> = <J^T u, v>", "[jvp]") {
  // Both sides are exact linear maps of the same Jacobian evaluated in float64: they differ only
  // by rounding, a few ulps of the sum of absolute products (~1e-15 of it for these sizes). A
  // wrong rule is off by O(1) of that sum, so 1e-10 separates the two by five orders either way.
  uint64_t seed = 1000;
  for (const Case& c : cases()) {
    INFO(c.label);
    const Adjoint a = adjoint(c, seed++);
    INFO("<u, Jv> = " << a.forward << ", <J^T u, v> = " << a.reverse << ", scale " << a.scale);
    CHECK(a.scale > 0);
    CHECK(std::abs(a.forward - a.reverse) <= 1e-10 * a.scale);
  }
}

TEST_CASE("every built-in op has a jvp case", "[jvp][registry]") {
  // The ops in the graph of each case: with every float input carrying a tangent, each of them ran
  // its jvp in the test above (an op without one throws there).
  std::set<std::string> covered;
  for (const Case& c : cases())
    for (const std::string& op : gs::testing::ops_in_graph(c.f, c.inputs)) covered.insert(op);
  std::string missing;
  for (const OpInfo& op : builtin_ops())
    if (!covered.count(std::string(op.name))) missing += std::string(op.name) + " (" + std::string(op.family) + ") ";
  INFO("built-in ops without a case in tests/test_jvp.cpp: " << missing);
  REQUIRE(missing.empty());
}

TEST_CASE("jvp matches central differences on nonlinear ops", "[jvp]") {
  require_central_differences([](auto& x) { return layer_norm(x[0], x[1], x[2]); },
                              {rnd({3, 5}, 200, 1, 2), rnd({5}, 201), rnd({5}, 202)}, 203);
  require_central_differences([](auto& x) { return log_softmax(mul(x[0], x[1])); }, {rnd({3, 5}, 204), rnd({5}, 205)},
                              206);
  LinearCrossEntropyOptions o;
  o.chunk = 2;
  require_central_differences([o](auto& x) { return linear_cross_entropy(x[0], x[1], x[2], x[3], o); },
                              {rnd({5, 3}, 207), rnd({6, 3}, 208), rnd({6}, 209), targets_of({5, -100, 0, 2, 1})}, 210);
}

TEST_CASE("jvp: several outputs, unused inputs, identity, float32", "[jvp]") {
  const Tensor x = rnd({2, 3}, 220), v = rnd({2, 3}, 221), c = rnd({2, 3}, 222);
  // identity and a repeated output: the tangent itself, twice
  auto id = jvp([](const std::vector<Tensor>& xs) { return std::vector<Tensor>{xs[0], xs[0]}; }, {x}, {v});
  REQUIRE(id.size() == 2);
  CHECK(id[0].to_vector() == v.to_vector());
  CHECK(id[1].to_vector() == v.to_vector());
  // an output that ignores the inputs gets zeros; an undefined tangent is zero
  const JvpTarget two = [&](const std::vector<Tensor>& xs) { return std::vector<Tensor>{mul(xs[0], xs[1]), exp(c)}; };
  auto r = jvp_with_outputs(two, {x, c}, {v, Tensor()});
  REQUIRE(r.tangents.size() == 2);
  CHECK(r.tangents[0].to_vector() == op::mul(v, c).to_vector());
  CHECK(r.tangents[1].to_vector() == std::vector<double>(6, 0.0));
  CHECK(r.outputs[1].to_vector() == op::exp(c).to_vector());
  // float32 through a dtype change: the tangent is converted like the value
  const Tensor x32 = op::to(x, kFloat32), v32 = op::to(v, kFloat32);
  auto t = jvp([](const std::vector<Tensor>& xs) { return std::vector<Tensor>{to(mul(xs[0], 2.0), kFloat64)}; },
               {x32}, {v32});
  CHECK(t[0].dtype() == kFloat64);
  CHECK(t[0].to_vector() == op::to(op::mul(v32, 2.0), kFloat64).to_vector());
  // to an integer dtype: no derivative, a zero tangent
  auto ti = jvp([](const std::vector<Tensor>& xs) { return std::vector<Tensor>{to(xs[0], kInt64)}; }, {x}, {v});
  CHECK(ti[0].dtype() == kInt64);
  CHECK(ti[0].to_vector() == std::vector<double>(6, 0.0));
}

TEST_CASE("jvp: forward mode needs no reverse mode, and leaves it working", "[jvp]") {
  const Tensor x = rnd({2, 3}, 230), v = rnd({2, 3}, 231);
  // nothing requires grad: no node is built, the tangent still flows
  auto r = jvp_with_outputs([](const std::vector<Tensor>& xs) { return std::vector<Tensor>{tanh(xs[0])}; }, {x}, {v});
  CHECK_FALSE(requires_grad_flag(r.outputs[0]));
  CHECK(grad_fn(r.outputs[0]) == nullptr);
  CHECK(r.tangents[0].to_vector() == op::unary_backward(op::Unary::tanh, x, op::tanh(x), v).to_vector());
  // NoGradGuard inside f stops the graph, not the tangent
  auto ng = jvp(
      [](const std::vector<Tensor>& xs) {
        NoGradGuard guard;
        return std::vector<Tensor>{mul(xs[0], 3.0)};
      },
      {x}, {v});
  CHECK(ng[0].to_vector() == op::mul(v, 3.0).to_vector());
  // a parameter f captures keeps its reverse-mode graph through the outputs
  const Tensor w = requires_grad(op::clone(rnd({2, 3}, 232)));
  auto rw =
      jvp_with_outputs([&](const std::vector<Tensor>& xs) { return std::vector<Tensor>{mul(xs[0], w)}; }, {x}, {v});
  CHECK(rw.tangents[0].to_vector() == op::mul(v, w).to_vector());
  REQUIRE(requires_grad_flag(rw.outputs[0]));
  backward(sum(rw.outputs[0]));
  CHECK(grad_of(w).to_vector() == x.to_vector());
}

TEST_CASE("jvp: no tangent outlives its call", "[jvp]") {
  const Tensor x = rnd({3}, 240), v = rnd({3}, 241);
  Tensor kept;
  auto r = jvp_with_outputs(
      [&](const std::vector<Tensor>& xs) {
        kept = exp(xs[0]);
        return std::vector<Tensor>{mul(kept, 2.0)};
      },
      {x}, {v});
  CHECK_FALSE(meta_tangent(r.outputs[0]).defined());  // the outputs leave without theirs
  CHECK_FALSE(has_tangent(kept));                     // outside jvp() nothing has one
  // a tensor kept from the earlier call is a constant in a later one, not a tangent carrier
  auto later = jvp([&](const std::vector<Tensor>& xs) { return std::vector<Tensor>{mul(xs[0], kept)}; }, {x}, {v});
  CHECK(later[0].to_vector() == op::mul(v, kept).to_vector());
  // the inputs and tangents passed in are untouched
  CHECK_FALSE(meta_tangent(x).defined());
  CHECK(x.impl()->autograd == nullptr);
}

TEST_CASE("jvp: errors name jvp and the argument", "[jvp][errors]") {
  const Tensor x = rnd({2, 3}, 250), v = rnd({2, 3}, 251);
  const JvpTarget f = [](const std::vector<Tensor>& xs) { return std::vector<Tensor>{exp(xs[0])}; };
  REQUIRE_THROWS_WITH(jvp(f, {x}, {}), Contains("jvp: 1 inputs but 0 tangents"));
  REQUIRE_THROWS_WITH(jvp(f, {x}, {rnd({3}, 252)}),
                      Contains("jvp: tangent 0 has shape [3] but input 0 has shape [2, 3]"));
  REQUIRE_THROWS_WITH(jvp(f, {x}, {op::to(v, kFloat32)}),
                      Contains("jvp: tangent 0 is float32 but input 0 is float64"));
  REQUIRE_THROWS_WITH(jvp(f, {x, arange(3)}, {v, arange(3)}),
                      Contains("jvp: input 1 is int64: only floating inputs carry a tangent"));
  // nested calls are refused, and the refusal leaves forward mode usable
  const JvpTarget nested = [&](const std::vector<Tensor>& xs) { return jvp(f, xs, {v}); };
  REQUIRE_THROWS_WITH(jvp(nested, {x}, {v}), Contains("jvp: nested calls are not supported"));
  CHECK(jvp(f, {x}, {v})[0].to_vector() == op::mul(v, op::exp(x)).to_vector());
}

TEST_CASE("jvp: an op recorded without a forward-mode rule is named", "[jvp][errors]") {
  register_op("jvp_test_no_rule", "test");
  auto twice = [](const Tensor& t) {
    return record("jvp_test_no_rule", op::mul(t, 2.0), {t}, [](const Tensor& g) { return grads(op::mul(g, 2.0)); });
  };
  const Tensor x = rnd({3}, 260), v = rnd({3}, 261), c = rnd({3}, 262);
  REQUIRE_THROWS_WITH(jvp([&](const std::vector<Tensor>& xs) { return std::vector<Tensor>{twice(xs[0])}; }, {x}, {v}),
                      Contains("jvp: op 'jvp_test_no_rule' has no forward-mode rule"));
  // on a constant inside jvp() it needs none, and reverse mode is unaffected
  auto ok = jvp([&](const std::vector<Tensor>& xs) { return std::vector<Tensor>{mul(xs[0], twice(c))}; }, {x}, {v});
  CHECK(ok[0].to_vector() == op::mul(v, op::mul(c, 2.0)).to_vector());
  const Tensor leaf = requires_grad(op::clone(x));
  backward(sum(twice(leaf)));
  CHECK(grad_of(leaf).to_vector() == std::vector<double>(3, 2.0));
}
