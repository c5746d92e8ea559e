// Gradcheck (float64, eps 1e-6, atol 1e-8, rtol 1e-6) for the fused cross_entropy, both
// reductions, with ignore_index rows; plus the tensor-layer contract (values, n_valid, errors)
// and agreement with the composite -log_softmax[target] formulation.
#include "autograd/ops.h"
#include "autograd/ops/loss.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/softmax.h"
#include "gradcheck_helpers.h"
#include "tensor/loss.h"
#include "tensor/ops.h"

using namespace gs;
using gs::testing::require_gradcheck;
using gs::testing::rnd;

namespace {
Tensor targets_of(const std::vector<int64_t>& t) { return from_vector<int64_t>(t); }
}  // namespace

TEST_CASE("gradcheck: cross_entropy mean and sum, with ignored rows", "[gradcheck][loss][h1-loss]") {
  const Tensor logits = rnd({5, 4}, 301, 0, 2);
  const Tensor t = targets_of({3, -100, 0, 2, -100});
  require_gradcheck([](auto& x) { return cross_entropy(x[0], x[1]); }, {logits, t});
  require_gradcheck([](auto& x) { return cross_entropy(x[0], x[1], -100, "sum"); }, {logits, t});
  // a custom ignore_index, and no ignored rows at all
  require_gradcheck([](auto& x) { return cross_entropy(x[0], x[1], 1); }, {logits, targets_of({1, 1, 0, 3, 2})});
  require_gradcheck([](auto& x) { return cross_entropy(x[0], x[1]); }, {rnd({3, 7}, 302), targets_of({6, 0, 3})});
  // logits produced by other ops (a non-contiguous view and a broadcast), loss scaled after
  require_gradcheck([](auto& x) { return mul(cross_entropy(transpose(x[0], 0, 1), x[1]), 3.0); },
                    {rnd({4, 3}, 303), targets_of({0, 3, 1})});
  require_gradcheck([](auto& x) { return cross_entropy(add(x[0], x[1]), x[2], -100, "sum"); },
                    {rnd({3, 4}, 304), rnd({4}, 305), targets_of({2, -100, 1})});
}

TEST_CASE("cross_entropy equals the composite -mean(log_softmax[target])", "[autograd][loss][h1-loss]") {
  // Same loss and same logits gradient as the unfused formulation (written with where + sum).
  const Tensor logits = rnd({4, 6}, 306, 0, 3);
  const std::vector<int64_t> tv = {5, -100, 0, 2};
  Tensor a = requires_grad(op::clone(logits)), b = requires_grad(op::clone(logits));
  Tensor fused = cross_entropy(a, targets_of(tv));
  // onehot mask over valid rows: [4, 6] with 1 at (i, t_i) for t_i != -100
  std::vector<double> mask(24, 0.0);
  for (int i = 0; i < 4; ++i)
    if (tv[i] >= 0) mask[i * 6 + tv[i]] = 1.0;
  Tensor composite = div(neg(sum(mul(log_softmax(b), from_vector(mask, {4, 6})))), 3.0);
  REQUIRE(fused.item() == Approx(composite.item()).epsilon(1e-12));
  backward(fused);
  backward(composite);
  const auto ga = grad_of(a).to_vector(), gb = grad_of(b).to_vector();
  for (size_t k = 0; k < ga.size(); ++k) REQUIRE(ga[k] == Approx(gb[k]).margin(1e-14));
  for (int j = 0; j < 6; ++j) REQUIRE(ga[6 + j] == 0.0);  // the ignored row
}

TEST_CASE("cross_entropy tensor ops: values, n_valid, errors", "[tensor][loss][h1-loss]") {
  const Tensor logits = tensor({{0, 0, 0, 0, 0}, {1, 2, 3, 4, 5}, {0, 0, 0, 0, 0}, {9, 9, 9, 9, 9}}, kFloat32);
  auto r = op::cross_entropy_forward(logits, targets_of({1, 4, -100, 0}));
  REQUIRE(r.n_valid == 3);
  REQUIRE(r.loss.dim() == 0);
  REQUIRE(r.lse.shape() == Shape{4});
  const double lse1 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0) + std::exp(4.0) + std::exp(5.0));
  // float32 results: ~1e-6 relative is what float storage allows
  REQUIRE(r.loss.item() == Approx(2 * std::log(5.0) + lse1 - 5).epsilon(1e-6));
  REQUIRE(r.lse.to_vector()[3] == Approx(9 + std::log(5.0)).epsilon(1e-6));
  Tensor g = op::cross_entropy_backward(logits, targets_of({1, 4, -100, 0}), r.lse, 0.5);
  REQUIRE(g.shape() == Shape{4, 5});
  REQUIRE(g.to_vector()[1] == Approx((0.2 - 1) * 0.5).epsilon(1e-6));
  REQUIRE(g.to_vector()[10] == 0.0);
  // the in-place form: same loss and lse, the gradient written over its argument
  Tensor work = op::clone(logits);
  auto f = op::cross_entropy_fused_(work, targets_of({1, 4, -100, 0}), 0.5);
  REQUIRE(f.n_valid == 3);
  REQUIRE(f.loss.item() == Approx(r.loss.item()).epsilon(1e-6));
  const auto gv = g.to_vector(), wv = work.to_vector();
  for (size_t k = 0; k < gv.size(); ++k) REQUIRE(wv[k] == Approx(gv[k]).margin(1e-7));
  REQUIRE_THROWS_WITH(op::cross_entropy_fused_(op::transpose(zeros({5, 4}), 0, 1), targets_of({0, 1, 2, 3}), 1.0),
                      "cross_entropy: the in-place form needs contiguous logits, got [4, 5] with strides [1, 4]");

  REQUIRE_THROWS_WITH(op::cross_entropy_forward(zeros({2, 3, 4}), targets_of({0, 1})),
                      "cross_entropy: logits must be 2-d [N, V], got [2, 3, 4]");
  REQUIRE_THROWS_WITH(op::cross_entropy_forward(zeros({4, 5}), targets_of({0, 1, 4, 7})),
                      "cross_entropy: target 7 out of range for V = 5 (row 3)");
  REQUIRE_THROWS_WITH(op::cross_entropy_forward(zeros({2, 5}), targets_of({-1, 0})),
                      "cross_entropy: target -1 out of range for V = 5 (row 0)");
  REQUIRE_THROWS_WITH(op::cross_entropy_forward(zeros({2, 5}), zeros({2})),
                      "cross_entropy: targets must be int64, got float32");
  REQUIRE_THROWS_WITH(op::cross_entropy_forward(zeros({4, 5}), targets_of({0, 1, 2})),
                      "cross_entropy: targets must be [N] = [4] for logits [4, 5], got [3]");
  REQUIRE_THROWS_WITH(cross_entropy(zeros({2, 5}), targets_of({0, 1}), -100, "none"),
                      "cross_entropy: reduction must be \"mean\" or \"sum\", got \"none\"");
  // every row ignored: mean is 0 / 0 = NaN (as PyTorch), sum is 0
  REQUIRE(std::isnan(cross_entropy(zeros({2, 5}), targets_of({-100, -100})).item()));
  REQUIRE(cross_entropy(zeros({2, 5}), targets_of({-100, -100}), -100, "sum").item() == 0.0);
}
