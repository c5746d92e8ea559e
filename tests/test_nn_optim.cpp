// Optimisers, gradient clipping and learning-rate schedules (nn/optim.h).
//
// Oracles: (1) the published update rules of torch.optim.SGD / Adam / AdamW written out below in
// plain double arithmetic; (2) PyTorch 1.13's own trajectories for the same problem, printed by
// scripts/golden/make_optim_golden.py and pasted here (kTorch*), which pins the hand references
// to PyTorch's semantics; (3) invariants: bit-identical resume, decoupled decay's exact offset,
// clipping's norm, a quadratic bowl reaching its minimum.
#include <array>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <numbers>

#include <catch2/catch.hpp>

#include <cstdint>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/variable.h"
#include "nn/optim.h"
#include "tensor/ops.h"

using namespace gs;
using Catch::Matchers::Contains;

namespace {

// ---- the shared problem: p0 = [0.5, -1.5, 2], grad(p) = a * p + b --------------------------
using Vec = std::array<double, 3>;
const Vec kA = {1.0, 2.0, 0.5}, kB = {0.3, -0.2, 0.1}, kP0 = {0.5, -1.5, 2.0};

// From scripts/golden/make_optim_golden.py (torch 1.13.0a0, float64, foreach=False): the
// parameter after steps 1, 2, 3.
const double kTorchSGD[3][3] = {{0.41999999999999998, -1.1799999999999999, 1.8899999999999999}, {0.34799999999999998, -0.92399999999999993, 1.7854999999999999}, {0.28320000000000001, -0.71919999999999995, 1.6862249999999999}};
const double kTorchSGDMomentumWd[3][3] = {{0.41749999999999998, -1.1724999999999999, 1.8799999999999999}, {0.26941249999999994, -0.61738749999999976, 1.6585999999999999}, {0.07784543749999992, 0.028778187500000288, 1.3581169999999998}};
const double kTorchSGDNesterov[3][3] = {{0.34799999999999998, -0.8919999999999999, 1.7909999999999999}, {0.16008, -0.25583999999999985, 1.5127549999999998}, {-0.038143200000000009, 0.27336320000000008, 1.1892177749999999}};
const double kTorchAdam[3][3] = {{0.490000000125, -1.4900000000312501, 1.990000000090909}, {0.48000347666840631, -1.4800016834025722, 1.980001213626263}, {0.47001279905485893, -1.4700061823749115, 1.9700044539461352}};
const double kTorchAdamL2[3][3] = {{0.49000001176469205, -1.4900000029850737, 1.9900000076923017}, {0.48000714484181034, -1.4800033909809249, 1.9800024959716997}, {0.47002618841291399, -1.470012409794943, 1.9700091051385793}};
const double kTorchAdamW[3][3] = {{0.48950001249998437, -1.4885000031249989, 1.9880000090909009}, {0.47901775120208734, -1.477015397557832, 1.9760149567818104}, {0.46855804989213901, -1.4655487491915244, 1.9640467706491329}};

// torch.optim.SGD's documented algorithm (dampening 0): 3 steps, the parameter after each.
std::array<Vec, 3> ref_sgd(double lr, double mu, bool nesterov, double wd) {
  Vec p = kP0, buf{};
  std::array<Vec, 3> out;
  for (int t = 1; t <= 3; ++t) {
    for (int i = 0; i < 3; ++i) {
      double g = kA[i] * p[i] + kB[i];
      if (wd != 0) g = g + wd * p[i];
      if (mu != 0) {
        buf[i] = t == 1 ? g : mu * buf[i] + g;
        g = nesterov ? g + mu * buf[i] : buf[i];
      }
      p[i] = p[i] - lr * g;
    }
    out[t - 1] = p;
  }
  return out;
}

// torch.optim.Adam (L2: wd * p added to the gradient) / AdamW (decoupled: p *= 1 - lr * wd).
std::array<Vec, 3> ref_adam(double lr, double b1, double b2, double eps, double wd, bool decoupled) {
  Vec p = kP0, m{}, v{};
  std::array<Vec, 3> out;
  for (int t = 1; t <= 3; ++t) {
    for (int i = 0; i < 3; ++i) {
      double g = kA[i] * p[i] + kB[i];
      if (wd != 0) {
        if (decoupled) p[i] = p[i] * (1 - lr * wd);
        else g = g + wd * p[i];
      }
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
      p[i] = p[i] - lr / bc1 * m[i] / (std::sqrt(v[i]) / std::sqrt(bc2) + eps);
    }
    out[t - 1] = p;
  }
  return out;
}

Tensor make_param(const std::vector<double>& v, DType dt = kFloat64) {
  return requires_grad(op::to(from_vector(v), dt));
}
// A wrong .grad that set_grad would refuse, to reach the optimisers' own checks.
void force_grad(const Tensor& p, const Tensor& g) { gs::detail::meta(p).grad = g; }
// grad = a * p + b from the current parameter, in the parameter's dtype.
void quad_grad(const Tensor& p) {
  Tensor a = op::to(from_vector(std::vector<double>(kA.begin(), kA.end())), p.dtype());
  Tensor b = op::to(from_vector(std::vector<double>(kB.begin(), kB.end())), p.dtype());
  set_grad(p, op::add(op::mul(p, a), b));
}

// Runs 3 steps and checks the parameter against both references after each.
// Tolerance: float64 throughout; the C++ ops and the references differ only in the order of a
// few roundings per step (~1e-16 relative each), PyTorch likewise (its gradient comes from
// backward through 0.5 * a * p * p, rounded differently), so 1e-12 relative is far above the
// noise and far below any semantic difference (the smallest one checked, Adam's eps, is 1e-9).
void check_3_steps(nn::Optimizer& opt, const Tensor& p, const std::array<Vec, 3>& ref, const double torch[3][3]) {
  for (int s = 0; s < 3; ++s) {
    opt.zero_grad();
    quad_grad(p);
    opt.step();
    auto got = p.to_vector<double>();
    for (int i = 0; i < 3; ++i) {
      CAPTURE(s, i);
      REQUIRE(got[i] == Approx(ref[s][i]).epsilon(1e-12).margin(1e-14));
      REQUIRE(ref[s][i] == Approx(torch[s][i]).epsilon(1e-12).margin(1e-14));
    }
  }
  REQUIRE(opt.steps() == 3);
}

}  // namespace

TEST_CASE("SGD, momentum + weight decay, nesterov match PyTorch's rule for 3 steps", "[nn][optim]") {
  SECTION("plain") {
    Tensor p = make_param({kP0.begin(), kP0.end()});
    nn::SGD opt({{"w", p}}, 0.1);
    check_3_steps(opt, p, ref_sgd(0.1, 0, false, 0), kTorchSGD);
    REQUIRE(opt.state().size() == 1);  // only "step": no buffers without momentum
  }
  SECTION("momentum and weight decay") {
    Tensor p = make_param({kP0.begin(), kP0.end()});
    nn::SGD opt({{"w", p}}, 0.1, 0.9, false, 0.05);
    check_3_steps(opt, p, ref_sgd(0.1, 0.9, false, 0.05), kTorchSGDMomentumWd);
  }
  SECTION("nesterov") {
    Tensor p = make_param({kP0.begin(), kP0.end()});
    nn::SGD opt({{"w", p}}, 0.1, 0.9, true);
    check_3_steps(opt, p, ref_sgd(0.1, 0.9, true, 0), kTorchSGDNesterov);
  }
}

TEST_CASE("Adam, Adam + L2 and AdamW match PyTorch's rule for 3 steps", "[nn][optim]") {
  SECTION("Adam defaults") {
    Tensor p = make_param({kP0.begin(), kP0.end()});
    nn::Adam opt({{"w", p}}, 0.01);
    check_3_steps(opt, p, ref_adam(0.01, 0.9, 0.999, 1e-8, 0, false), kTorchAdam);
  }
  SECTION("Adam with L2 weight decay") {
    Tensor p = make_param({kP0.begin(), kP0.end()});
    nn::Adam opt({{"w", p}}, 0.01, 0.8, 0.99, 1e-6, 0.1);
    check_3_steps(opt, p, ref_adam(0.01, 0.8, 0.99, 1e-6, 0.1, false), kTorchAdamL2);
  }
  SECTION("AdamW") {
    Tensor p = make_param({kP0.begin(), kP0.end()});
    nn::AdamW opt({{"w", p}}, 0.01, 0.8, 0.99, 1e-6, 0.1);
    check_3_steps(opt, p, ref_adam(0.01, 0.8, 0.99, 1e-6, 0.1, true), kTorchAdamW);
  }
  SECTION("float32 parameters follow the float64 reference") {
    // float32 rounding of p, g, m, v and the update: ~1e-7 relative per op, a few ops per step.
    Tensor p = make_param({kP0.begin(), kP0.end()}, kFloat32);
    nn::AdamW opt({{"w", p}}, 0.01, 0.8, 0.99, 1e-6, 0.1);
    auto ref = ref_adam(0.01, 0.8, 0.99, 1e-6, 0.1, true);
    for (int s = 0; s < 3; ++s) {
      quad_grad(p);
      opt.step();
      auto got = p.to_vector<double>();
      for (int i = 0; i < 3; ++i) REQUIRE(got[i] == Approx(ref[s][i]).epsilon(2e-6));
    }
    REQUIRE(p.dtype() == kFloat32);
  }
}

TEST_CASE("AdamW's decay is decoupled: it differs from Adam by exactly lr * wd * p on step 1", "[nn][optim]") {
  const double lr = 0.01, wd = 0.1;
  Tensor p_adam = make_param({kP0.begin(), kP0.end()});
  Tensor p_l2 = make_param({kP0.begin(), kP0.end()});
  Tensor p_w = make_param({kP0.begin(), kP0.end()});
  nn::Adam adam({{"w", p_adam}}, lr);
  nn::Adam l2({{"w", p_l2}}, lr, 0.9, 0.999, 1e-8, wd);
  nn::AdamW adamw({{"w", p_w}}, lr, 0.9, 0.999, 1e-8, wd);
  for (auto [opt, p] : {std::pair<nn::Optimizer*, Tensor>{&adam, p_adam}, {&l2, p_l2}, {&adamw, p_w}}) {
    quad_grad(p);
    opt->step();
  }
  auto a = p_adam.to_vector<double>(), l = p_l2.to_vector<double>(), w = p_w.to_vector<double>();
  for (int i = 0; i < 3; ++i) {
    // AdamW = Adam's step applied to p0 * (1 - lr wd): both see the same g, so the gap is
    // lr * wd * p0 (5e-4 .. 2e-3) up to float64 rounding (~1e-16 absolute, ~1e-12 relative).
    REQUIRE(a[i] - w[i] == Approx(lr * wd * kP0[i]).epsilon(1e-9));
    // Adam's first step is lr * g / (|g| + eps'): L2 only changes g's size, not its sign here, so
    // the L2 variant moves by lr like plain Adam, to within lr * eps / |g| ~ 1e-10.
    REQUIRE(std::abs(l[i] - a[i]) < 1e-9);
    REQUIRE(std::abs(a[i] - w[i]) > 1e-4);
  }
}

TEST_CASE("state() round trip: save after 5 steps, load into a fresh optimiser, resume bit-identically",
          "[nn][optim]") {
  auto make_params = [] {
    Generator gen(7);
    return nn::NamedTensors{{"layer.weight", requires_grad(randn({2, 3}, gen))},
                            {"layer.bias", requires_grad(randn({3}, gen))}};
  };
  // grad = p * p * 0.5 - 0.25 * p + c: nonlinear so the trajectory depends on every bit of p
  auto set_grads = [](const nn::NamedTensors& ps, int step) {
    for (const auto& [_, p] : ps)
      set_grad(p, op::add(op::sub(op::mul(op::mul(p, p), 0.5), op::mul(p, 0.25)), 0.01 * step));
  };
  using Make = std::function<std::unique_ptr<nn::Optimizer>(const nn::NamedTensors&)>;
  std::vector<std::pair<std::string, Make>> kinds = {
      {"SGD", [](const nn::NamedTensors& ps) { return std::make_unique<nn::SGD>(ps, 0.05, 0.9, true, 0.01); }},
      {"Adam", [](const nn::NamedTensors& ps) { return std::make_unique<nn::Adam>(ps, 0.01, 0.9, 0.99, 1e-8, 0.01); }},
      {"AdamW", [](const nn::NamedTensors& ps) { return std::make_unique<nn::AdamW>(ps, 0.01); }},
  };
  for (const auto& [kind, make] : kinds) {
    CAPTURE(kind);
    auto ref_params = make_params();
    auto ref = make(ref_params);
    for (int s = 0; s < 10; ++s) {
      set_grads(ref_params, s);
      ref->step();
    }

    auto params = make_params();
    auto first = make(params);
    for (int s = 0; s < 5; ++s) {
      set_grads(params, s);
      first->step();
    }
    nn::NamedTensors saved = first->state();
    std::vector<Tensor> p5;  // the parameters' values at step 5 (a checkpoint stores them too)
    for (const auto& [_, p] : params) p5.push_back(op::clone(p));
    REQUIRE(saved.front().first == "step");
    REQUIRE(saved.front().second.item<int64_t>() == 5);
    // a snapshot, not live buffers: another step leaves it alone
    std::vector<std::vector<double>> before;
    for (auto& [_, t] : saved) before.push_back(t.to_vector<double>());
    set_grads(params, 99);
    first->step();
    for (size_t i = 0; i < saved.size(); ++i) REQUIRE(saved[i].second.to_vector<double>() == before[i]);

    // "restart": fresh parameters and optimiser, values restored from the step-5 snapshot
    auto params2 = make_params();
    for (size_t i = 0; i < params2.size(); ++i) op::copy_(params2[i].second, p5[i]);
    auto second = make(params2);
    std::map<std::string, Tensor> saved_map(saved.begin(), saved.end());
    second->load_state(saved_map);
    REQUIRE(second->steps() == 5);
    for (int s = 5; s < 10; ++s) {
      set_grads(params2, s);
      second->step();
    }
    for (size_t i = 0; i < params2.size(); ++i)
      REQUIRE(params2[i].second.to_vector<float>() == ref_params[i].second.to_vector<float>());  // bit-identical
    auto a = second->state(), b = ref->state();
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      REQUIRE(a[i].first == b[i].first);
      REQUIRE(a[i].second.to_vector<double>() == b[i].second.to_vector<double>());
    }
  }
}

TEST_CASE("state names, load_state rejects missing, unexpected and misshapen entries unchanged", "[nn][optim]") {
  Tensor w = make_param({1, 2, 3}), b = make_param({4});
  nn::Adam opt({{"w", w}, {"b", b}}, 0.1);
  std::vector<std::string> names;
  for (auto& [n, _] : opt.state()) names.push_back(n);
  REQUIRE(names == std::vector<std::string>{"step", "w.exp_avg", "w.exp_avg_sq", "w.step", "b.exp_avg",
                                            "b.exp_avg_sq", "b.step"});
  nn::SGD sgd({{"w", w}}, 0.1, 0.5);
  REQUIRE(sgd.state().back().first == "w.momentum_buffer");

  auto good = opt.state();
  std::map<std::string, Tensor> st(good.begin(), good.end());
  auto missing = st;
  missing.erase("b.exp_avg");
  REQUIRE_THROWS_WITH(opt.load_state(missing), Contains("Adam.load_state") && Contains("missing: b.exp_avg"));
  auto extra = st;
  extra["c.exp_avg"] = zeros({1}, kFloat64);
  REQUIRE_THROWS_WITH(opt.load_state(extra), Contains("unexpected: c.exp_avg"));
  auto wrong = st;
  wrong["w.exp_avg"] = ones({2}, kFloat64);
  wrong["step"] = scalar(3, kInt64);
  REQUIRE_THROWS_WITH(opt.load_state(wrong), Contains("'w.exp_avg' has shape [2], the optimiser expects [3]"));
  REQUIRE(opt.steps() == 0);  // nothing was written
  auto negative = st;
  negative["step"] = scalar(-1, kInt64);
  REQUIRE_THROWS_WITH(opt.load_state(negative), Contains("'step' must be a whole number in [0, 2^53], got -1"));
  // near INT64_MAX the step counter overflowed on the next save or step (saved back as INT64_MIN)
  for (const char* name : {"step", "w.step"}) {
    INFO(name);
    auto huge = st;
    huge[name] = scalar(9.2e18, kInt64);  // just below INT64_MAX (2^63 itself does not fit)
    REQUIRE_THROWS_WITH(opt.load_state(huge), Contains(std::string("'") + name + "' must be a whole number in [0, 2^53]"));
    huge[name] = scalar(1e300, kFloat64);
    REQUIRE_THROWS_WITH(opt.load_state(huge), Contains(std::string("'") + name + "' must be a whole number in [0, 2^53]"));
  }
  // a corrupt moment used to surface steps later as "loss is -nan ... lower the learning rate"
  auto neg_sq = st;
  neg_sq["w.exp_avg_sq"] = from_vector<double>({0.1, -0.5, 0.2});
  REQUIRE_THROWS_WITH(opt.load_state(neg_sq), Contains("'w.exp_avg_sq' has a negative value (-0.5 at flat index 1)"));
  auto nan_m = st;
  nan_m["b.exp_avg"] = from_vector<double>({std::nan("")});
  REQUIRE_THROWS_WITH(opt.load_state(nan_m), Contains("'b.exp_avg' has a non-finite value"));
  REQUIRE(opt.steps() == 0);
  auto at_limit = st;
  at_limit["step"] = scalar(9007199254740992.0, kInt64);  // 2^53 itself is accepted
  opt.load_state(at_limit);
  REQUIRE(opt.steps() == 9007199254740992);
}

TEST_CASE("parameters without a gradient are skipped, their state does not advance", "[nn][optim]") {
  Tensor w = make_param({1, 2}), u = make_param({3, 4});
  nn::Adam opt({{"w", w}, {"u", u}}, 0.1);
  set_grad(w, from_vector(std::vector<double>{1, -1}));
  opt.step();
  opt.step();
  REQUIRE(u.to_vector<double>() == std::vector<double>{3, 4});
  std::map<std::string, Tensor> st;
  for (auto& [n, t] : opt.state()) st[n] = t;
  REQUIRE(st["w.step"].item<int64_t>() == 2);
  REQUIRE(st["u.step"].item<int64_t>() == 0);
  REQUIRE(st["u.exp_avg"].to_vector<double>() == std::vector<double>{0, 0});
  REQUIRE(opt.steps() == 2);
  // Adam's first two steps move by lr (sign-like): 1 - 0.1 - 0.1
  REQUIRE(w.to_vector<double>()[0] == Approx(0.8).epsilon(1e-6));
  opt.zero_grad();
  REQUIRE_FALSE(grad_of(w).defined());
}

TEST_CASE("optimiser errors name the optimiser, the parameter and the problem", "[nn][optim]") {
  Tensor w = make_param({1, 2, 3});
  REQUIRE_THROWS_WITH(nn::SGD({}, 0.1), Contains("SGD: got an empty parameter list"));
  REQUIRE_THROWS_WITH(nn::SGD({{"w", w}}, -0.1), Contains("SGD: lr must be finite and >= 0, got -0.1"));
  REQUIRE_THROWS_WITH(nn::SGD({{"w", w}}, 0.1, 0, true), Contains("SGD: nesterov needs momentum > 0"));
  REQUIRE_THROWS_WITH(nn::Adam({{"w", w}}, 0.1, 1.0), Contains("Adam: beta1 must be in [0, 1), got 1"));
  REQUIRE_THROWS_WITH(nn::AdamW({{"w", w}}, 0.1, 0.9, 0.999, -1), Contains("AdamW: eps must be"));
  REQUIRE_THROWS_WITH(nn::Adam({{"x", zeros({2})}}, 0.1), Contains("parameter 'x' must be a leaf that requires grad"));
  REQUIRE_THROWS_WITH(nn::Adam({{"w", w}, {"w", make_param({1})}}, 0.1),
                      Contains("two different parameters are both named 'w'"));

  nn::SGD sgd({{"w", w}, {"again", w}}, 0.1);  // the same tensor twice (tied weights) is kept once
  REQUIRE(sgd.params().size() == 1);
  force_grad(w, ones({2}, kFloat64));
  REQUIRE_THROWS_WITH(sgd.step(), Contains("SGD.step: grad of 'w' has shape [2] but the parameter has [3]"));
  force_grad(w, ones({3}, kFloat32));
  REQUIRE_THROWS_WITH(sgd.step(), Contains("grad of 'w' has dtype float32 but the parameter has float64"));
  set_grad(w, ones({3}, kFloat64));
  sgd.lr = -1;
  REQUIRE_THROWS_WITH(sgd.step(), Contains("SGD.step: lr must be finite and >= 0, got -1"));
  REQUIRE(w.to_vector<double>() == std::vector<double>{1, 2, 3});  // failed steps wrote nothing
  REQUIRE(sgd.steps() == 0);
  sgd.lr = 0.5;
  sgd.step();
  REQUIRE(w.to_vector<double>() == std::vector<double>{0.5, 1.5, 2.5});  // stepped once, not twice
}

TEST_CASE("clip_grad_norm returns the global norm and scales only above the threshold", "[nn][optim]") {
  Tensor w = make_param({0, 0}), b = make_param({0}), none = make_param({0});
  Tensor gw = from_vector(std::vector<double>{3, 4}), gb = from_vector(std::vector<double>{12});
  nn::NamedTensors ps{{"w", w}, {"b", b}, {"none", none}, {"w_again", w}};  // no grad; duplicate
  SECTION("below the threshold: untouched") {
    set_grad(w, gw);
    set_grad(b, gb);
    REQUIRE(nn::clip_grad_norm(ps, 13.5) == Approx(13).epsilon(1e-15));  // sqrt(9 + 16 + 144)
    REQUIRE(grad_of(w).same(gw));
    REQUIRE(grad_of(b).same(gb));
  }
  SECTION("above: scaled by max_norm / (norm + 1e-6)") {
    set_grad(w, gw);
    set_grad(b, gb);
    REQUIRE(nn::clip_grad_norm(ps, 6.5) == Approx(13).epsilon(1e-15));
    const double c = 6.5 / (13 + 1e-6);
    REQUIRE(grad_of(w).to_vector<double>() == std::vector<double>{3 * c, 4 * c});
    REQUIRE(grad_of(b).to_vector<double>() == std::vector<double>{12 * c});
    REQUIRE(gw.to_vector<double>() == std::vector<double>{3, 4});  // replaced, not written in place
    REQUIRE_FALSE(grad_of(none).defined());
    REQUIRE(nn::clip_grad_norm(ps, 1e9) == Approx(6.5).epsilon(1e-6));  // the clipped norm
  }
  SECTION("a gradient tensor shared by two parameters is scaled once for each") {
    Tensor v = make_param({0, 0});
    set_grad(w, gw);
    set_grad(v, gw);  // backward may hand the same tensor to two leaves
    REQUIRE(nn::clip_grad_norm(std::vector<Tensor>{w, v}, 1.0) == Approx(5 * std::sqrt(2.0)).epsilon(1e-15));
    const double c = 1.0 / (5 * std::sqrt(2.0) + 1e-6);
    REQUIRE(grad_of(w).to_vector<double>() == std::vector<double>{3 * c, 4 * c});
    REQUIRE(grad_of(v).to_vector<double>() == std::vector<double>{3 * c, 4 * c});
  }
  SECTION("float32 gradients are summed in double") {
    // 1e6 elements of 0.001f: a float32 running sum of squares would drift by ~1e-3 relative; a
    // double sum of 1e6 terms is within n * 2^-53 ~ 1e-10 of exact even summed naively.
    Tensor big = requires_grad(zeros({1000000}));
    set_grad(big, full({1000000}, 1e-3));
    const double f = static_cast<double>(1e-3f);
    REQUIRE(nn::clip_grad_norm(std::vector<Tensor>{big}, 10) == Approx(std::sqrt(1e6 * f * f)).epsilon(1e-10));
  }
  REQUIRE_THROWS_WITH(nn::clip_grad_norm(ps, -1), Contains("clip_grad_norm: max_norm must be >= 0"));
}

TEST_CASE("learning-rate schedules: warmup, cosine, constant", "[nn][optim][schedule]") {
  auto cos = nn::make_schedule("cosine", 1.0, 10, 110, 0.1);
  REQUIRE(cos.at(0) == Approx(0.1));   // (0 + 1) / 10 of base
  REQUIRE(cos.at(4) == Approx(0.5));
  REQUIRE(cos.at(9) == Approx(1.0));   // warmup end
  REQUIRE(cos.at(10) == Approx(1.0));  // cosine start
  REQUIRE(cos.at(35) == Approx(0.1 + 0.45 * (1 + std::cos(std::numbers::pi / 4))));
  REQUIRE(cos.at(60) == Approx(0.55));  // halfway: (base + min) / 2
  REQUIRE(cos.at(109) == Approx(0.1 + 0.45 * (1 + std::cos(std::numbers::pi * 99 / 100))));
  REQUIRE(cos.at(110) == 0.1);
  REQUIRE(cos.at(100000) == 0.1);
  for (int64_t s = 10; s < 110; ++s) REQUIRE(cos.at(s + 1) <= cos.at(s));  // monotone decay

  auto flat = nn::make_schedule("constant", 0.3);
  REQUIRE(flat.at(0) == 0.3);
  REQUIRE(flat.at(123456) == 0.3);
  auto warm = nn::make_schedule("constant", 0.3, 4);
  REQUIRE(warm.at(1) == Approx(0.15));
  REQUIRE(warm.at(4) == 0.3);
  auto no_warm = nn::make_schedule("cosine", 2.0, 0, 4);
  REQUIRE(no_warm.at(0) == 2.0);
  REQUIRE(no_warm.at(2) == Approx(1.0));

  REQUIRE_THROWS_WITH(nn::make_schedule("linear", 1.0), Contains("unknown schedule 'linear' (constant, cosine)"));
  REQUIRE_THROWS_WITH(nn::make_schedule("cosine", 1.0, 10, 5), Contains("cosine needs total >= max(1, warmup)"));
  REQUIRE_THROWS_WITH(nn::make_schedule("cosine", 1.0, 0, 10, 2.0), Contains("min_lr must be in [0, base_lr"));
  REQUIRE_THROWS_WITH(cos.at(-1), Contains("LrSchedule.at: step must be >= 0"));
}

TEST_CASE("each optimiser minimises an ill-conditioned quadratic bowl through backward()", "[nn][optim]") {
  // f(p) = sum(0.5 * a * (p - c)^2), a = [4, 1, 0.25]: minimum at c, condition number 16.
  const std::vector<double> c = {1.0, -2.0, 0.5};
  Tensor a = from_vector(std::vector<double>{4, 1, 0.25}), ct = from_vector(c);
  using Make = std::function<std::unique_ptr<nn::Optimizer>(const nn::NamedTensors&)>;
  struct Case {
    const char* name;
    Make make;
    nn::LrSchedule sched;
  };
  std::vector<Case> cases = {
      {"SGD", [](const nn::NamedTensors& ps) { return std::make_unique<nn::SGD>(ps, 0.2); },
       nn::make_schedule("constant", 0.2)},
      {"SGD momentum", [](const nn::NamedTensors& ps) { return std::make_unique<nn::SGD>(ps, 0.1, 0.8); },
       nn::make_schedule("constant", 0.1)},
      {"SGD nesterov", [](const nn::NamedTensors& ps) { return std::make_unique<nn::SGD>(ps, 0.1, 0.8, true); },
       nn::make_schedule("constant", 0.1)},
      {"Adam", [](const nn::NamedTensors& ps) { return std::make_unique<nn::Adam>(ps, 0.1); },
       nn::make_schedule("cosine", 0.1, 10, 400, 0.0)},
      {"AdamW", [](const nn::NamedTensors& ps) { return std::make_unique<nn::AdamW>(ps, 0.1, 0.9, 0.999, 1e-8, 1e-4); },
       nn::make_schedule("cosine", 0.1, 10, 400, 0.0)},
  };
  for (auto& cs : cases) {
    CAPTURE(cs.name);
    Tensor p = make_param({0, 0, 0});
    auto opt = cs.make({{"p", p}});
    double first_loss = 0, loss_v = 0;
    for (int s = 0; s < 400; ++s) {
      opt->zero_grad();
      Tensor d = sub(p, ct);
      Tensor loss = sum(mul(mul(mul(d, d), a), 0.5));
      loss_v = loss.item<double>();
      if (s == 0) first_loss = loss_v;
      backward(loss);
      opt->lr = cs.sched.at(opt->steps());
      opt->step();
    }
    REQUIRE(first_loss > 2);
    // SGD contracts the slowest direction by (1 - lr * 0.25) per step: < 1e-8 after 400 steps;
    // Adam's steps shrink with the cosine lr to 0. 1e-3 is far above both residuals and far
    // below the starting distance (~2.3).
    auto got = p.to_vector<double>();
    for (int i = 0; i < 3; ++i) REQUIRE(got[i] == Approx(c[i]).margin(1e-3));
    REQUIRE(loss_v < 1e-5);
  }
}

TEST_CASE("op::adam_update_: the fused pass over a large tensor follows the float64 rule, bad operands are named",
          "[nn][optim]") {
  // 100,003 elements: several OpenMP blocks plus a ragged tail. Reference: the update rule in
  // double; float32 rounding of a handful of ops per element bounds the difference (~1e-6 rel).
  const int64_t n = 100003;
  std::vector<double> p0(n), g0(n);
  for (int64_t i = 0; i < n; ++i) {
    p0[i] = std::sin(0.001 * static_cast<double>(i));
    g0[i] = std::cos(0.003 * static_cast<double>(i)) - 0.2;
  }
  Tensor p = op::to(from_vector(p0, {n}), kFloat32), g = op::to(from_vector(g0, {n}), kFloat32);
  Tensor m = zeros({n}, kFloat32), v = zeros({n}, kFloat32);
  const op::AdamStep s{0.01, 0.8, 0.99, 1e-6, 0.1, true, 1};
  op::adam_update_(p, g, m, v, s);
  const auto got = p.to_vector<double>();
  const auto gf = g.to_vector<double>(), pf = op::to(from_vector(p0, {n}), kFloat32).to_vector<double>();
  for (int64_t i = 0; i < n; ++i) {
    const double mi = 0.2 * gf[i], vi = 0.01 * gf[i] * gf[i];
    const double want = pf[i] * (1 - 0.01 * 0.1) - 0.01 / 0.2 * mi / (std::sqrt(vi) / std::sqrt(0.01) + 1e-6);
    REQUIRE(got[i] == Approx(want).epsilon(2e-6).margin(1e-7));
  }
  CHECK_THROWS_WITH(op::adam_update_(p, g, zeros({3}, kFloat32), v, s),
                    Contains("adam_update_") && Contains("exp_avg has shape [3]"));
  CHECK_THROWS_WITH(op::adam_update_(p, op::to(g, kFloat64), m, v, s),
                    Contains("adam_update_") && Contains("the gradient has dtype float64"));
  op::AdamStep bad = s;
  bad.step = 0;
  CHECK_THROWS_WITH(op::adam_update_(p, g, m, v, bad), Contains("step must be >= 1"));
}
