// nn/heads_nonlinear: the mos, mlp and sigsoftmax heads against PyTorch (tests/golden/heads_*.bin:
// logits, loss and every gradient, tolerances of the other golden model tests: 1e-10 of the
// tensor's scale in float64, 1e-4 in float32), gradcheck and forward mode on h in float64, and what
// the analysis makes of them (not linear: the Jacobian metric, which differs from the column space
// of W for the heads whose Jacobian moves with the token).
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <string>

#include "analysis/head_bottleneck.h"
#include "analysis/jacobian_metric.h"
#include "autograd/gradcheck.h"
#include "autograd/jvp.h"
#include "autograd/ops.h"
#include "golden_compare.h"
#include "nn/head.h"
#include "nn/heads_nonlinear.h"
#include "nn/lm.h"

using namespace gs;
using gs::testing::GoldenFile;
using gs::testing::golden_path;
using gs::testing::require_close_at_scale;

namespace {

const char* kHeads[] = {"mos", "mlp", "sigsoftmax"};

std::shared_ptr<nn::LMHead> head_named(const std::string& name, DType dt) {
  Generator g(1);
  return nn::make_head(nn::parse_head(name), 5, 9, 0, g, dt, 2);
}

}  // namespace

TEST_CASE("non-linear heads: logits, loss and gradients against torch", "[nn][heads][golden]") {
  for (const auto& [sfx, dt, tol] : {std::tuple{"f64", kFloat64, 1e-10}, std::tuple{"f32", kFloat32, 1e-4}}) {
    const GoldenFile gf(golden_path(std::string("heads_") + sfx + ".bin"));
    for (const std::string name : kHeads) {
      INFO(name << " " << sfx);
      auto head = head_named(name, dt);
      // every parameter from the file, under the head's own names (a missing one throws)
      for (const auto& [pname, p] : head->named_parameters()) op::copy_(p, gf.get(name + "." + pname));
      const Tensor h = requires_grad(gf.get("h"));
      const Tensor logits = head->forward(h);
      const Tensor loss = cross_entropy(logits, gf.get("targets"));
      require_close_at_scale(logits, gf, name + ".logits", tol);
      require_close_at_scale(loss, gf, name + ".loss", tol);
      backward(loss);
      require_close_at_scale(grad_of(h), gf, name + ".grad.h", tol);
      for (const auto& [pname, p] : head->named_parameters())
        require_close_at_scale(grad_of(p), gf, name + ".grad." + pname, tol);
    }
  }
}

TEST_CASE("non-linear heads: gradcheck and forward mode on the hidden states (float64)", "[nn][heads][jvp]") {
  Generator g(7);
  const Tensor h = randn({4, 5}, g, kFloat64), R = randn({4, 9}, g, kFloat64);
  const Tensor v = randn({4, 5}, g, kFloat64);
  for (const std::string name : kHeads) {
    INFO(name);
    auto head = head_named(name, kFloat64);
    auto f = [&](const std::vector<Tensor>& x) { return sum(mul(head->forward(x[0]), R)); };
    const GradcheckResult r = gradcheck(f, {h});
    INFO(r.report);
    CHECK(r.ok);
    // <R, J v> from forward mode equals <J^T R, v> from reverse mode
    const Tensor Jv = jvp([&](const std::vector<Tensor>& x) { return std::vector<Tensor>{head->forward(x[0])}; }, {h},
                          {v})[0];
    const Tensor hx = requires_grad(op::clone(h));
    const Tensor JtR = grad({head->forward(hx)}, {hx}, {R})[0];
    const double fwd = op::sum(op::mul(Jv, R)).item<double>(), rev = op::sum(op::mul(JtR, v)).item<double>();
    CHECK(std::abs(fwd - rev) <= 1e-10 * std::max(1.0, std::abs(rev)));
  }
}

TEST_CASE("non-linear heads: built in, not linear, and measured by their Jacobian", "[nn][heads][analysis]") {
  Generator g(9);
  const Tensor h = randn({10, 5}, g, kFloat64), G = randn({10, 9}, g, kFloat64);
  for (const std::string name : kHeads) {
    INFO(name);
    auto head = head_named(name, kFloat64);
    CHECK(head->builtin());
    CHECK_FALSE(head->linear());
    CHECK(head->kind() == name);
    const analysis::JacobianMetrics j =
        analysis::jacobian_destroyed([&](const Tensor& x) { return head->forward(x); }, h, G);
    CHECK(j.destroyed_fraction > 0);
    CHECK(j.destroyed_fraction < 1);
    const analysis::HeadMetrics c = analysis::grad_metrics(G, h, analysis::head_basis(head->head_matrix()));
    // mlp: J_t = W diag(gelu'(.)) P spans col(W) whenever the middle factors are invertible, so
    // the two figures agree; mos and sigsoftmax move their column space with the token.
    if (name == "mlp") CHECK(std::abs(j.destroyed_fraction - c.destroyed_fraction) < 1e-9);
    else CHECK(std::abs(j.destroyed_fraction - c.destroyed_fraction) > 1e-4);
  }
}

TEST_CASE("non-linear heads: from an LMConfig by name, mixtures in the config map", "[nn][heads]") {
  nn::LMConfig c;
  c.set_head("mos");
  c.mixtures = 3;
  c.vocab = 20, c.d_model = 8, c.n_layer = 1, c.n_head = 2, c.context = 8;
  auto model = nn::make_language_model(c);
  const auto* mos = dynamic_cast<const nn::MixtureOfSoftmaxesHead*>(model->head().get());
  REQUIRE(mos != nullptr);
  CHECK(mos->components() == 3);
  CHECK(nn::LMConfig::from_map(c.to_map()).mixtures == 3);
  c.mixtures = 0;
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("a mos head needs 1 <= mixtures <= 64, got 0"));
}
