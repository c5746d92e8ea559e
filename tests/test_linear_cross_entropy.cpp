// linear_cross_entropy (autograd/ops/loss.h): the fused, chunked LM head + cross-entropy against
// the unfused graph matmul(H, W^T) (+ b) -> cross_entropy, at the op and at the model level; its
// gradcheck cases; its errors; the on_chunk hook; the LanguageModel / Trainer loss paths.
//
// Tolerances (normwise: ||fused - unfused||_F / ||unfused||_F per tensor, computed in double):
//   float64 1e-12, float32 1e-6 (the agreement the fused op promises). Both paths run the same
//   float products; what differs is rounding only: (a) the chunks split the N-long sum of dW = G^T H (and of
//   db = colsum G) into per-chunk sums, each rounded once more; (b) G is scaled by 1/n_valid in
//   the forward and by the upstream gradient in the backward instead of once by g/n_valid;
//   (c) the fused kernel writes softmax as e / sum e, the unfused backward as exp(z - lse): about
//   one ulp per element of G. Each is a few ulp relative (float32: 1.2e-7 each, float64: 2.2e-16)
//   at these sizes (N <= 37, V <= 300), so 1e-6 in float32 leaves a margin of about 3x over the
//   sum of the three, and 1e-12 in float64 several hundred. Normwise, not element by element: an
//   entry of dH = G W that cancels to ~0 has no relative accuracy in either path.
//   Whole models (float32): the loss and the head matrix's gradient come straight from the op
//   (1e-6); every other gradient (the backbone's, a factorized head's down projection, a tied
//   embedding's) goes through more float32 products from a dH that already differs by ~1e-7:
//   1e-5 there. float64 models: 1e-10.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "cuda_test_helpers.h"
#include "gradcheck_helpers.h"
#include "nn/backbone.h"
#include "nn/data.h"
#include "nn/head.h"
#include "nn/lm.h"
#include "nn/trainer.h"
#include "tensor/ops.h"

using namespace gs;
using gs::testing::require_gradcheck;
using gs::testing::rnd;

namespace {

Tensor targets_of(const std::vector<int64_t>& t) { return from_vector<int64_t>(t); }

// ||a - b||_F / ||b||_F in double (||a||_F when b is all zeros).
double rel_err(const Tensor& a, const Tensor& b) {
  REQUIRE(a.defined() == b.defined());
  if (!a.defined()) return 0;
  REQUIRE(shape_str(a.shape()) == shape_str(b.shape()));
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  double d = 0, n = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    d += (x[i] - y[i]) * (x[i] - y[i]);
    n += y[i] * y[i];
  }
  return n > 0 ? std::sqrt(d / n) : std::sqrt(d);
}

bool all_zero(const Tensor& t) {
  for (double v : t.to_vector<double>())
    if (v != 0.0) return false;
  return true;
}

struct LossAndGrads {
  double loss = 0;
  Tensor dH, dW, db;
};

// Leaves cloned from H0, W0, b0 (b0 may be undefined); backward from the loss with `upstream`.
template <class LossFn>
LossAndGrads run_loss(const Tensor& H0, const Tensor& W0, const Tensor& b0, double upstream, LossFn&& f) {
  const Tensor H = requires_grad(op::clone(H0)), W = requires_grad(op::clone(W0));
  const Tensor b = b0.defined() ? requires_grad(op::clone(b0)) : Tensor();
  const Tensor loss = f(H, W, b);
  REQUIRE(loss.dim() == 0);
  REQUIRE(loss.dtype() == H0.dtype());
  backward(loss, scalar(upstream, H0.dtype(), H0.device()));
  return {loss.item<double>(), grad_of(H), grad_of(W), b.defined() ? grad_of(b) : Tensor()};
}

// The reference: the logits as a graph node, then cross_entropy.
LossAndGrads unfused(const Tensor& H0, const Tensor& W0, const Tensor& b0, const Tensor& y,
                     const LinearCrossEntropyOptions& o, double upstream = 1.0) {
  return run_loss(H0, W0, b0, upstream, [&](const Tensor& H, const Tensor& W, const Tensor& b) {
    Tensor z = matmul(H, transpose(W, 0, 1));
    if (b.defined()) z = add(z, b);
    return cross_entropy(z, y, o.ignore_index, o.reduction);
  });
}

LossAndGrads fused(const Tensor& H0, const Tensor& W0, const Tensor& b0, const Tensor& y,
                   const LinearCrossEntropyOptions& o, double upstream = 1.0) {
  return run_loss(H0, W0, b0, upstream, [&](const Tensor& H, const Tensor& W, const Tensor& b) {
    return linear_cross_entropy(H, W, b, y, o);
  });
}

void require_same(const LossAndGrads& f, const LossAndGrads& u, double tol) {
  REQUIRE(std::abs(f.loss - u.loss) <= tol * std::abs(u.loss));
  CHECK(rel_err(f.dH, u.dH) <= tol);
  CHECK(rel_err(f.dW, u.dW) <= tol);
  CHECK(rel_err(f.db, u.db) <= tol);
}

constexpr int64_t kN = 13, kD = 6, kV = 11;
// rows 2 and 7 ignored (-100)
const std::vector<int64_t> kTargets{3, 0, -100, 10, 4, 4, 9, -100, 1, 2, 7, 5, 0};

}  // namespace

TEST_CASE("linear_cross_entropy equals matmul + cross_entropy: loss, dH, dW, db", "[autograd][loss][linear-ce]") {
  for (DType dt : {kFloat32, kFloat64}) {
    const double tol = dt == kFloat32 ? 1e-6 : 1e-12;
    Generator gen(71);
    const Tensor H = randn({kN, kD}, gen, dt, 0.0, 1.0), W = randn({kV, kD}, gen, dt, 0.0, 0.7);
    const Tensor b = randn({kV}, gen, dt, 0.0, 0.5);
    const Tensor y = targets_of(kTargets);
    for (bool with_bias : {false, true})
      for (int64_t chunk : {int64_t{1}, int64_t{4}, kN, kN + 20, int64_t{0}})
        for (const char* reduction : {"mean", "sum"}) {
          INFO(dtype_name(dt) << (with_bias ? " with bias" : " no bias") << ", chunk " << chunk << ", "
                              << reduction);
          LinearCrossEntropyOptions o;
          o.chunk = chunk;
          o.reduction = reduction;
          const Tensor bias = with_bias ? b : Tensor();
          // the upstream gradient 2.5 checks that the stored gradients are scaled in the backward
          for (double upstream : {1.0, 2.5})
            require_same(fused(H, W, bias, y, o, upstream), unfused(H, W, bias, y, o, upstream), tol);
        }
    // chunk rows from the memory budget: room for 3 rows of V -> chunks of 3 (4 + 1 chunks)
    LinearCrossEntropyOptions o;
    o.memory_budget_bytes = 3 * kV * static_cast<int64_t>(dtype_size(dt));
    REQUIRE(linear_cross_entropy_chunk_rows(kN, kV, dt, o) == 3);
    require_same(fused(H, W, b, y, o), unfused(H, W, b, y, o), tol);
    // a custom ignore_index (4: rows 4 and 5, and the former -100 rows now target 4 too), and H
    // and W reaching the op as non-contiguous views (the same values, through transpose ->
    // contiguous -> transpose in the graph)
    o.ignore_index = 4;
    std::vector<int64_t> t4 = kTargets;
    for (int64_t& t : t4)
      if (t == -100) t = 4;
    const Tensor y4 = targets_of(t4);
    const LossAndGrads ft = run_loss(H, W, b, 1.0, [&](const Tensor& Hl, const Tensor& Wl, const Tensor& bl) {
      const Tensor Hv = transpose(contiguous(transpose(Hl, 0, 1)), 0, 1);
      const Tensor Wv = transpose(contiguous(transpose(Wl, 0, 1)), 0, 1);
      REQUIRE_FALSE(Hv.is_contiguous());
      REQUIRE_FALSE(Wv.is_contiguous());
      return linear_cross_entropy(Hv, Wv, bl, y4, o);
    });
    require_same(ft, unfused(H, W, b, y4, o), tol);
  }
}

TEST_CASE("linear_cross_entropy with every row ignored follows cross_entropy: NaN mean, zero sum and gradients",
          "[autograd][loss][linear-ce]") {
  Generator gen(72);
  const Tensor H = randn({4, 3}, gen, kFloat64), W = randn({5, 3}, gen, kFloat64), b = randn({5}, gen, kFloat64);
  const Tensor y = targets_of({-100, -100, -100, -100});
  for (int64_t chunk : {int64_t{1}, int64_t{3}, int64_t{0}}) {
    LinearCrossEntropyOptions o;
    o.chunk = chunk;
    // mean over zero rows is 0 / 0 (PyTorch's convention, and cross_entropy's): NaN; nothing
    // flows back, so every gradient is exactly zero (not NaN)
    const LossAndGrads f = fused(H, W, b, y, o), u = unfused(H, W, b, y, o);
    REQUIRE(std::isnan(f.loss));
    REQUIRE(std::isnan(u.loss));
    CHECK(all_zero(f.dH));
    CHECK(all_zero(f.dW));
    CHECK(all_zero(f.db));
    CHECK(all_zero(u.dH));
    o.reduction = "sum";
    const LossAndGrads fs = fused(H, W, b, y, o);
    REQUIRE(fs.loss == 0.0);
    CHECK(all_zero(fs.dH));
    CHECK(all_zero(fs.dW));
  }
  // no rows at all: the same conventions
  const Tensor none = from_vector<int64_t>(std::vector<int64_t>{});
  REQUIRE(std::isnan(linear_cross_entropy(zeros({0, 3}, kFloat64), W, none).item()));
  LinearCrossEntropyOptions sum;
  sum.reduction = "sum";
  REQUIRE(linear_cross_entropy(zeros({0, 3}, kFloat64), W, none, sum).item() == 0.0);
}

TEST_CASE("gradcheck: linear_cross_entropy, chunked, with bias and ignored rows", "[gradcheck][loss][linear-ce]") {
  const Tensor H = rnd({5, 3}, 311), W = rnd({4, 3}, 312, 0, 0.8), b = rnd({4}, 313, 0, 0.5);
  const Tensor y = targets_of({3, -100, 0, 2, 1});
  LinearCrossEntropyOptions c2;
  c2.chunk = 2;  // chunks of 2, 2 and 1 rows
  require_gradcheck([c2](auto& x) { return linear_cross_entropy(x[0], x[1], x[2], x[3], c2); }, {H, W, b, y});
  LinearCrossEntropyOptions c1;
  c1.chunk = 1;
  c1.reduction = "sum";
  require_gradcheck([c1](auto& x) { return linear_cross_entropy(x[0], x[1], x[2], c1); }, {H, W, y});
  // one chunk holding every row, a custom ignore_index
  LinearCrossEntropyOptions all;
  all.ignore_index = 2;
  require_gradcheck([all](auto& x) { return linear_cross_entropy(x[0], x[1], x[2], x[3], all); },
                    {H, W, b, targets_of({1, 2, 0, 3, 2})});
  // H produced by another op as a non-contiguous view, the loss scaled after (upstream != 1)
  require_gradcheck([c2](auto& x) { return mul(linear_cross_entropy(transpose(x[0], 0, 1), x[1], x[2], c2), 3.0); },
                    {rnd({3, 5}, 314), W, y});
}

TEST_CASE("linear_cross_entropy: on_chunk sees G chunk by chunk, equal to the unfused logits' gradient",
          "[autograd][loss][linear-ce]") {
  for (DType dt : {kFloat32, kFloat64}) {
    INFO(dtype_name(dt));
    const double tol = dt == kFloat32 ? 1e-6 : 1e-12;
    Generator gen(73);
    const Tensor H0 = randn({kN, kD}, gen, dt), W0 = randn({kV, kD}, gen, dt, 0.0, 0.7), b0 = randn({kV}, gen, dt);
    const Tensor y = targets_of(kTargets);

    // the unfused G: the gradient arriving at the logits node
    const Tensor H = requires_grad(op::clone(H0)), W = requires_grad(op::clone(W0)), b = requires_grad(op::clone(b0));
    const Tensor z = add(matmul(H, transpose(W, 0, 1)), b);
    const Tensor ref_loss = cross_entropy(z, y);
    const Tensor G = grad({ref_loss}, {z})[0];  // [N, V]

    for (bool no_grad : {false, true}) {
      INFO((no_grad ? "under NoGradGuard" : "with gradients"));
      std::vector<int64_t> bounds;
      std::vector<double> g_rows, h_rows;
      double loss_sum = 0;
      LinearCrossEntropyOptions o;
      o.chunk = 4;
      o.on_chunk = [&](const LinearCrossEntropyChunk& c) {
        REQUIRE(c.G.shape() == Shape{c.i1 - c.i0, kV});
        REQUIRE(c.H.shape() == Shape{c.i1 - c.i0, kD});
        REQUIRE(c.G.dtype() == dt);
        REQUIRE_FALSE(requires_grad_flag(c.H));
        bounds.push_back(c.i0);
        bounds.push_back(c.i1);
        for (double v : c.G.to_vector<double>()) g_rows.push_back(v);
        for (double v : c.H.to_vector<double>()) h_rows.push_back(v);
        loss_sum += c.loss_sum;
      };
      Tensor loss;
      const Tensor Hf = requires_grad(op::clone(H0)), Wf = requires_grad(op::clone(W0));
      const Tensor bf = requires_grad(op::clone(b0));
      if (no_grad) {
        NoGradGuard ng;
        loss = linear_cross_entropy(Hf, Wf, bf, y, o);
        REQUIRE(grad_fn(loss) == nullptr);
      } else {
        loss = linear_cross_entropy(Hf, Wf, bf, y, o);
        REQUIRE(grad_fn(loss) != nullptr);
        REQUIRE(grad_fn(loss)->op == "linear_cross_entropy");
      }
      REQUIRE(bounds == std::vector<int64_t>{0, 4, 4, 8, 8, 12, 12, 13});
      CHECK(rel_err(from_vector(g_rows, {kN, kV}), op::to(G, kFloat64)) <= tol);
      CHECK(h_rows == H0.to_vector<double>());
      // loss_sum is the chunk's unreduced loss: their total over n_valid is the mean loss
      CHECK(loss_sum / 11.0 == Approx(ref_loss.item()).epsilon(tol));
      CHECK(loss.item() == Approx(ref_loss.item()).epsilon(tol));
    }
  }
}

TEST_CASE("linear_cross_entropy: chunk rows from the memory budget", "[autograd][loss][linear-ce]") {
  LinearCrossEntropyOptions o;  // 64 MiB
  // GPT-2's head: 64 MiB / (50257 * 4 bytes) = 333.8 rows
  CHECK(linear_cross_entropy_chunk_rows(2048, 50257, kFloat32, o) == 333);
  CHECK(linear_cross_entropy_chunk_rows(2048, 50257, kFloat64, o) == 166);
  CHECK(linear_cross_entropy_chunk_rows(100, 50257, kFloat32, o) == 100);  // never more than N
  o.memory_budget_bytes = 16;  // less than one row: still one row
  CHECK(linear_cross_entropy_chunk_rows(10, 50257, kFloat32, o) == 1);
  o.chunk = 7;  // an explicit chunk wins over the budget
  CHECK(linear_cross_entropy_chunk_rows(10, 50257, kFloat32, o) == 7);
  CHECK(linear_cross_entropy_chunk_rows(5, 50257, kFloat32, o) == 5);
  CHECK(linear_cross_entropy_chunk_rows(0, 50257, kFloat32, o) == 1);
}

TEST_CASE("linear_cross_entropy: errors name the op and the shapes", "[autograd][loss][linear-ce]") {
  const Tensor y4 = targets_of({0, 1, 2, 3});
  REQUIRE_THROWS_WITH(linear_cross_entropy(zeros({4, 3}), zeros({5, 2}), y4),
                      "linear_cross_entropy: H [4, 3] and W [5, 2] disagree on D (W must be [V, D])");
  REQUIRE_THROWS_WITH(linear_cross_entropy(zeros({2, 4, 3}), zeros({5, 3}), y4),
                      "linear_cross_entropy: H must be 2-d [N, D], got [2, 4, 3]");
  REQUIRE_THROWS_WITH(linear_cross_entropy(zeros({4, 3}), zeros({5}), y4),
                      "linear_cross_entropy: W must be 2-d [V, D], got [5]");
  REQUIRE_THROWS_WITH(linear_cross_entropy(zeros({4, 3}, kInt64), zeros({5, 3}, kInt64), y4),
                      "linear_cross_entropy: H must be float32 or float64, got int64");
  REQUIRE_THROWS_WITH(linear_cross_entropy(zeros({4, 3}), zeros({5, 3}, kFloat64), y4),
                      "linear_cross_entropy: H is float32 but W is float64");
  REQUIRE_THROWS_WITH(linear_cross_entropy(zeros({4, 3}), zeros({5, 3}), zeros({4}), y4),
                      "linear_cross_entropy: bias must be [V] = [5] float32 for W [5, 3], got [4] float32");
  REQUIRE_THROWS_WITH(linear_cross_entropy(zeros({4, 3}), zeros({5, 3}), zeros({4})),
                      "linear_cross_entropy: targets must be int64, got float32");
  REQUIRE_THROWS_WITH(linear_cross_entropy(zeros({4, 3}), zeros({5, 3}), targets_of({0, 1, 2})),
                      "linear_cross_entropy: targets must be [N] = [4] for H [4, 3], got [3]");
  REQUIRE_THROWS_WITH(linear_cross_entropy(zeros({4, 3}), zeros({5, 3}), targets_of({0, 1, 4, 7})),
                      "linear_cross_entropy: target 7 out of range for V = 5 (row 3)");
  REQUIRE_THROWS_WITH(linear_cross_entropy(zeros({2, 3}), zeros({5, 3}), targets_of({-1, 0})),
                      "linear_cross_entropy: target -1 out of range for V = 5 (row 0)");
  REQUIRE_THROWS_WITH(linear_cross_entropy(zeros({2, 3}), zeros({0, 3}), targets_of({0, 0})),
                      "linear_cross_entropy: W [0, 3] has no classes (V = 0)");
  LinearCrossEntropyOptions o;
  o.reduction = "none";
  REQUIRE_THROWS_WITH(linear_cross_entropy(zeros({4, 3}), zeros({5, 3}), y4, o),
                      "linear_cross_entropy: reduction must be \"mean\" or \"sum\", got \"none\"");
  o.reduction = "mean";
  o.chunk = -1;
  REQUIRE_THROWS_WITH(linear_cross_entropy(zeros({4, 3}), zeros({5, 3}), y4, o),
                      "linear_cross_entropy: chunk must be >= 0 (0: from memory_budget_bytes), got -1");
}

namespace {

nn::LMConfig lce_config(const std::string& backbone, const std::string& head, DType dt) {
  nn::LMConfig c;
  c.backbone = nn::parse_backbone(backbone);
  c.head = nn::parse_head(head == "tied" ? "full" : head);
  c.tied = head == "tied";
  c.rank = head == "factorized" ? 3 : 0;
  c.vocab = 11;
  c.d_model = 8;
  c.n_layer = 1;
  c.n_head = 2;
  c.context = 8;
  c.dtype = dt;
  c.seed = 9;
  return c;
}

// Logits (h W^T) * 2: not of the form head_input(h) head_matrix()^T with a parameter matrix, so
// it keeps LMHead's default (unfused) loss.
class DoubledHead : public nn::LMHead {
 public:
  DoubledHead(int64_t d, int64_t v, Generator& gen) {
    weight = register_parameter("weight", randn({v, d}, gen, kFloat32, 0, 0.3));
  }
  Tensor forward(const Tensor& h) const override {
    check_hidden(h);
    NameScope scope(path());
    return set_name(mul(matmul(h, transpose(weight, 0, 1)), 2.0), node_name("logits"));
  }
  Tensor head_matrix() const override {
    NoGradGuard ng;
    return op::mul(weight, 2.0);
  }
  Tensor head_input(const Tensor& h) const override { return h; }
  int64_t vocab() const override { return weight.size(0); }
  int64_t d_model() const override { return weight.size(1); }
  int64_t rank() const override { return weight.size(1); }
  std::string kind() const override { return "doubled"; }
  Tensor weight;
};

}  // namespace

TEST_CASE("LanguageModel: the fused default loss equals the unfused loss and every gradient",
          "[nn][lm][linear-ce]") {
  for (DType dt : {kFloat32, kFloat64})
    for (const char* backbone : {"transformer", "gru"})
      for (const char* head : {"full", "factorized", "tied"}) {
        INFO(dtype_name(dt) << " " << backbone << "/" << head);
        auto model = nn::make_language_model(lce_config(backbone, head, dt));
        Generator gen(74);
        const Tensor x = randint({2, 6}, 11, gen);
        std::vector<int64_t> yv = randint({2, 6}, 11, gen).to_vector<int64_t>();
        yv[3] = yv[8] = -100;  // two ignored rows
        const Tensor y = from_vector(yv, {2, 6});
        for (int64_t chunk : {int64_t{0}, int64_t{5}}) {
          INFO("chunk " << chunk);
          nn::LossOptions uo;
          uo.fused = false;
          nn::LossOptions fo;
          fo.chunk = chunk;
          model->zero_grad();
          const Tensor lu = model->loss(x, y, uo);
          backward(lu);
          std::vector<Tensor> gu;
          for (const auto& [name, p] : model->named_parameters())
            gu.push_back(grad_of(p).defined() ? op::clone(grad_of(p)) : Tensor());
          model->zero_grad();
          const Tensor lf = chunk == 0 ? model->loss(x, y) : model->loss(x, y, fo);
          backward(lf);
          // the fused graph: one node from the head's input to the loss, no logits node
          CHECK(name_of(lf) == "loss");
          CHECK(grad_fn(lf)->op == "linear_cross_entropy");
          CHECK(grad_fn(lu)->op == "cross_entropy");
          const double tol_op = dt == kFloat32 ? 1e-6 : 1e-10, tol_backbone = dt == kFloat32 ? 1e-5 : 1e-10;
          CHECK(lf.item() == Approx(lu.item()).epsilon(tol_op));
          double total_sq = 0;  // ||every parameter's unfused gradient||^2
          for (const Tensor& g : gu)
            if (g.defined()) total_sq += op::sum(op::mul(op::to(g, kFloat64), op::to(g, kFloat64))).item();
          size_t i = 0;
          for (const auto& [name, p] : model->named_parameters()) {
            INFO(name);
            const Tensor& ref = gu[i++];
            // The attention key bias adds the same q.b_k to every score of a row, and softmax does
            // not see it: its exact gradient is 0 and both paths give only rounding noise, so a
            // relative error means nothing there. Both must be noise against the whole gradient.
            if (name.size() >= 11 && name.compare(name.size() - 11, 11, "attn.k.bias") == 0) {
              for (const Tensor& g : {grad_of(p), ref}) {
                const Tensor g64 = op::to(g, kFloat64);
                CHECK(std::sqrt(op::sum(op::mul(g64, g64)).item()) <= tol_backbone * std::sqrt(total_sq));
              }
              continue;
            }
            // the head matrix's gradient is the op's dW itself; everything else is reached through dH
            const bool head_matrix = name == "head.weight" || name == "head.up.weight";
            CHECK(rel_err(grad_of(p), ref) <= (head_matrix ? tol_op : tol_backbone));
          }
        }
      }
}

TEST_CASE("LanguageModel: on_chunk through the model, the unfused path and a custom head's default loss",
          "[nn][lm][linear-ce]") {
  auto model = nn::make_language_model(lce_config("transformer", "full", kFloat64));
  Generator gen(75);
  const Tensor x = randint({2, 6}, 11, gen), y = randint({2, 6}, 11, gen);
  int64_t rows = 0;
  double loss_sum = 0;
  nn::LossOptions o;
  o.chunk = 5;
  o.on_chunk = [&](const LinearCrossEntropyChunk& c) {
    rows += c.i1 - c.i0;
    loss_sum += c.loss_sum;
    CHECK(c.H.shape() == Shape{c.i1 - c.i0, 8});  // the head's input rows (hidden, D = 8)
  };
  const Tensor l = model->loss(x, y, o);
  CHECK(rows == 12);
  CHECK(loss_sum / 12.0 == Approx(l.item()).epsilon(1e-12));
  o.fused = false;
  REQUIRE_THROWS_WITH(model->loss(x, y, o), "LanguageModel.loss: on_chunk needs the fused loss (fused = true)");

  // a custom head without a fused loss: the default is forward + cross_entropy, on_chunk refused
  nn::LMConfig cfg = lce_config("transformer", "full", kFloat32);
  Generator g2(76);
  auto head = std::make_shared<DoubledHead>(cfg.d_model, cfg.vocab, g2);
  nn::LanguageModel custom(nn::make_backbone("transformer", cfg.backbone_config(), g2), head, cfg);
  nn::LossOptions unfused_opt;
  unfused_opt.fused = false;
  CHECK(custom.loss(x, y).item() == Approx(custom.loss(x, y, unfused_opt).item()).epsilon(1e-12));
  nn::LossOptions hook;
  hook.on_chunk = [](const LinearCrossEntropyChunk&) {};
  REQUIRE_THROWS_WITH(custom.loss(x, y, hook), Catch::Contains("on_chunk needs a fused loss"));
}

TEST_CASE("Trainer: fused and unfused loss paths train alike, loss_chunk_hook sees a step's G",
          "[nn][train][linear-ce]") {
  std::vector<int64_t> tokens;
  for (int i = 0; i < 400; ++i) tokens.push_back((i * 5 + i / 7) % 11);
  nn::TrainConfig tc;
  tc.steps = 3;
  tc.batch = 2;
  tc.seq_len = 6;
  tc.progress = false;
  tc.seed = 3;
  std::vector<std::vector<double>> losses;
  int64_t hooked_rows = 0, hooked_step = 0;
  double hooked_loss_sum = 0;
  for (bool fused_loss : {true, false}) {
    auto model = nn::make_language_model(lce_config("transformer", "full", kFloat64));
    tc.fused_loss = fused_loss;
    nn::Trainer trainer(model, nn::TokenStream(tokens, 11), tc);
    if (fused_loss)
      trainer.loss_chunk_hook = [&](int64_t step, const nn::Batch& b) -> LinearCrossEntropyChunkFn {
        REQUIRE(b.inputs.numel() == 12);
        if (step != 2) return {};
        return [&, step](const LinearCrossEntropyChunk& c) {
          hooked_step = step;
          hooked_rows += c.i1 - c.i0;
          hooked_loss_sum += c.loss_sum;
        };
      };
    losses.push_back(trainer.run());
  }
  REQUIRE(losses[0].size() == 3);
  for (size_t s = 0; s < 3; ++s) CHECK(losses[0][s] == Approx(losses[1][s]).epsilon(1e-10));
  CHECK(hooked_step == 2);
  CHECK(hooked_rows == 12);
  CHECK(hooked_loss_sum / 12.0 == Approx(losses[0][1]).epsilon(1e-12));  // every target valid
}

TEST_CASE("cuda: linear_cross_entropy on the device equals the unfused path and the CPU", "[cuda]") {
  if (!gs::testing::cuda_or_skip()) return;
  for (DType dt : {kFloat32, kFloat64}) {
    INFO(dtype_name(dt));
    // float32: cuBLAS chooses its kernels (and so the order of each dot product's sum) by shape,
    // so the fused [c, D] x [D, V] and unfused [N, D] x [D, V] logits may differ by a few ulp
    // before exp; and CPU vs CUDA differ like matmul (test_cuda_parity.cpp): 1e-5 normwise
    const double tol = dt == kFloat32 ? 1e-5 : 1e-12;
    Generator gen(77);
    const Tensor H = randn({37, 24}, gen, dt), W = randn({300, 24}, gen, dt, 0.0, 0.3), b = randn({300}, gen, dt);
    std::vector<int64_t> t;
    for (int i = 0; i < 37; ++i) t.push_back(i % 9 == 4 ? -100 : (i * 37) % 300);
    const Tensor y = targets_of(t);
    LinearCrossEntropyOptions o;
    o.chunk = 8;
    auto dev = [](const Tensor& x) { return op::to(x, Device::CUDA); };
    const LossAndGrads fc = fused(dev(H), dev(W), dev(b), dev(y), o);
    REQUIRE(fc.dH.device() == Device::CUDA);
    const LossAndGrads uc = unfused(dev(H), dev(W), dev(b), dev(y), o);
    require_same(fc, uc, tol);
    const LossAndGrads f = fused(H, W, b, y, o);
    require_same(fc, f, tol);
  }
}
