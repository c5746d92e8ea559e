// CUDA against CPU (issue 7 item 5): every op family runs on the same inputs on the CPU and on
// their device copies, and the device result must satisfy, element by element,
//     |cuda - cpu| <= tol.abs + tol.rel * |cpu|.
// Then a tiny GPT's loss and every parameter gradient, and the head metrics, CUDA vs CPU.
//
// Tests tagged [cuda] need a device: without one, cuda_or_skip() records a visible warning
// ("no CUDA device: ...") and the test passes, so the suite passes on machines without a GPU and
// the skip shows in the output of `gs_tests "[cuda]"`. The untagged tests at the end (public
// allocator stats, TF32 switch, messages without a device) run everywhere.
//
// Tolerances (why each is what it is):
//   exact (0, 0)     copies, gathers, selections, comparisons, max/argmax, and add/sub/mul/div:
//                    one IEEE-correctly-rounded operation per element on both sides (nvcc's
//                    default -prec-div=true, no fast math), so the bits must agree.
//   float32 math     exp/log/tanh/pow/tanh-form GELU: CUDA's libdevice and the CPU's glibc or
//                    vectorised exp (ops_cpu/vec_math.h, 2 ulp) are each within a few ulp
//                    (1 ulp = 1.2e-7 relative): rel 1e-5 (~80 ulp). The CPU's tanh as
//                    1 - 2 / (exp(2u) + 1) has an absolute error of ~4e-7, which GELU's derivative
//                    multiplies by up to ~3 on [-3, 3] where its value is near 0: abs 5e-6.
//                    (erf-form vs tanh-form GELU differ by ~1e-4 and more: still caught.)
//   float64 math     the same reasoning at 2.2e-16 per ulp: rel 1e-12, abs 1e-14.
//   reductions       both backends accumulate floats in double and round once, so float32 sums
//                    differ by at most about an ulp of the result: rel 1e-6 (float64 1e-12).
//   matmul float32   cuBLAS and OpenBLAS sum K products in float32 in different orders: the
//                    difference grows like sqrt(K) ulp of the O(sqrt(K)) entries; abs 4e-7 * K
//                    (1.2e-4 at K = 300) is loose for that yet tight enough to fail if TF32 were
//                    on by default (a 10-bit mantissa gives ~5e-3 at K = 300 on randn inputs).
//   model / metrics  the numbers: 1e-4 relative to each gradient's largest entry (as in
//                    test_golden_gpt.cpp) in float32; head metrics 1e-5 relative in float64.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/head_bottleneck.h"
#include "analysis/head_json.h"
#include "autograd/ops.h"
#include "demos/cli/commands.h"
#include "nn/device.h"
#include "nn/lm.h"
#include "tensor/lapack.h"
#include "tensor/ops.h"

using namespace gs;
using gs::op::Binary;
using gs::op::Unary;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// True when a CUDA device can run the test; otherwise a visible warning and a pass.
bool cuda_or_skip() {
  if (cuda_available()) return true;
  WARN("no CUDA device: test skipped ("
       << (cuda_built() ? "this build has the CUDA backend, but the machine has no usable device"
                        : "this build has no CUDA backend: configure with -DGRADSCOPE_CUDA=ON")
       << ")");
  SUCCEED("skipped: no CUDA device");
  return false;
}

struct Tol {
  double abs, rel;
};
constexpr Tol kExact{0, 0};
constexpr Tol kMath32{5e-6, 1e-5}, kMath64{1e-14, 1e-12};
constexpr Tol kSum32{1e-12, 1e-6}, kSum64{1e-14, 1e-12};

Tol pick(DType dt, Tol f32, Tol f64) { return dt == kFloat32 ? f32 : f64; }

bool same_special(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || (std::isinf(a) && std::isinf(b) && (a > 0) == (b > 0));
}

// Element-wise |got - ref| <= abs + rel |ref|; got must live on the device and ref on the CPU
// (a silent host fallback would make the comparison vacuous).
void require_close(const Tensor& got, const Tensor& ref, Tol tol, const std::string& what) {
  INFO(what);
  REQUIRE(got.defined() == ref.defined());
  if (!ref.defined()) return;
  REQUIRE(got.device() == Device::CUDA);
  REQUIRE(ref.device() == Device::CPU);
  REQUIRE(shape_str(got.shape()) == shape_str(ref.shape()));
  REQUIRE(dtype_name(got.dtype()) == dtype_name(ref.dtype()));
  const std::vector<double> a = got.to_vector<double>(), b = ref.to_vector<double>();
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (same_special(a[i], b[i])) continue;
    if (!(std::abs(a[i] - b[i]) <= tol.abs + tol.rel * std::abs(b[i]))) {
      if (bad++ == 0) first = i;
    }
  }
  if (bad > 0)
    INFO(bad << " of " << a.size() << " elements outside |diff| <= " << tol.abs << " + " << tol.rel
              << " |cpu|; first at " << first << ": cuda " << a[first] << ", cpu " << b[first]);
  CHECK(bad == 0);
}

using Outs = std::vector<Tensor>;
using Fn = std::function<Outs(const std::vector<Tensor>&)>;

std::vector<Tensor> to_cuda(const std::vector<Tensor>& xs) {
  std::vector<Tensor> out;
  for (const Tensor& t : xs) out.push_back(t.defined() ? op::to(t, Device::CUDA) : Tensor());
  return out;
}

// f on the CPU inputs and on their device copies; every output compared.
void parity(const std::string& what, const std::vector<Tensor>& inputs, const Fn& f, Tol tol) {
  const Outs ref = f(inputs);
  const Outs got = f(to_cuda(inputs));
  REQUIRE(got.size() == ref.size());
  for (size_t i = 0; i < ref.size(); ++i) require_close(got[i], ref[i], tol, what + ", output " + std::to_string(i));
}

const DType kFloats[] = {kFloat32, kFloat64};

}  // namespace

TEST_CASE("cuda parity: binary elementwise ops with broadcasting, strided and scalar operands", "[cuda]") {
  if (!cuda_or_skip()) return;
  Generator gen(1);
  for (DType dt : kFloats) {
    const Tensor a = randn({4, 1, 5}, gen, dt);                    // broadcast against b to [4, 3, 5]
    const Tensor b = uniform({3, 5}, gen, 0.5, 2.0, dt);           // away from 0: a safe divisor
    const Tensor at = op::transpose(randn({5, 3}, gen, dt), 0, 1);  // [3, 5], not contiguous
    for (auto k : {Binary::add, Binary::sub, Binary::mul, Binary::div, Binary::maximum, Binary::minimum, Binary::eq,
                   Binary::lt, Binary::gt}) {
      const std::string name = std::string(op::binary_name(k)) + " " + std::string(dtype_name(dt));
      parity(name + " broadcast", {a, b}, [k](const auto& x) { return Outs{op::binary(k, x[0], x[1])}; }, kExact);
      parity(name + " strided", {at, b}, [k](const auto& x) { return Outs{op::binary(k, x[0], x[1])}; }, kExact);
      parity(name + " scalar", {a}, [k](const auto& x) { return Outs{op::binary(k, x[0], 0.25)}; }, kExact);
    }
    // pow: one libm call per element (see the header for the tolerance)
    parity(std::string("pow ") + std::string(dtype_name(dt)), {b, a},
           [](const auto& x) { return Outs{op::pow(x[0], x[1])}; }, pick(dt, kMath32, kMath64));
    // eq must see equal elements: compare a tensor with itself broadcast
    parity("eq on equal values", {a}, [](const auto& x) { return Outs{op::eq(x[0], op::expand(x[0], {4, 3, 5}))}; },
           kExact);
  }
  const Tensor ia = randint({4, 1, 5}, 50, gen), ib = randint({3, 5}, 50, gen);
  for (auto k : {Binary::add, Binary::sub, Binary::mul, Binary::maximum, Binary::minimum, Binary::eq, Binary::lt,
                 Binary::gt})
    parity(std::string(op::binary_name(k)) + " int64", {ia, ib},
           [k](const auto& x) { return Outs{op::binary(k, x[0], x[1])}; }, kExact);
}

TEST_CASE("cuda parity: every unary op, forward and backward", "[cuda]") {
  if (!cuda_or_skip()) return;
  Generator gen(2);
  for (DType dt : kFloats) {
    const Tensor x = uniform({7, 33}, gen, -3.0, 3.0, dt);
    const Tensor xpos = uniform({7, 33}, gen, 0.1, 3.0, dt);  // log and sqrt
    const Tensor gy = randn({7, 33}, gen, dt);
    for (auto k : {Unary::neg, Unary::exp, Unary::log, Unary::sqrt, Unary::tanh, Unary::sigmoid, Unary::relu,
                   Unary::gelu, Unary::silu, Unary::abs}) {
      const bool positive = k == Unary::log || k == Unary::sqrt;
      const Tol tol = (k == Unary::neg || k == Unary::relu || k == Unary::abs) ? kExact : pick(dt, kMath32, kMath64);
      parity(std::string(op::unary_name(k)) + " " + std::string(dtype_name(dt)), {positive ? xpos : x, gy},
             [k](const auto& in) {
               const Tensor y = op::unary(k, in[0]);
               return Outs{y, op::unary_backward(k, in[0], y, in[1])};
             },
             tol);
    }
  }
}

TEST_CASE("cuda parity: sum, mean, max, argmax over every axis pattern", "[cuda]") {
  if (!cuda_or_skip()) return;
  Generator gen(3);
  for (DType dt : kFloats) {
    const Tensor x = randn({6, 129, 5}, gen, dt);
    const Tol tol = pick(dt, kSum32, kSum64);
    const std::vector<std::vector<int64_t>> dim_sets = {{}, {0}, {1}, {2}, {0, 2}, {1, 2}};
    for (const auto& dims : dim_sets)
      for (bool keep : {false, true})
        parity("sum/mean over " + std::to_string(dims.size()) + " dims", {x},
               [&](const auto& in) { return Outs{op::sum(in[0], dims, keep), op::mean(in[0], dims, keep)}; }, tol);
    for (int64_t d = 0; d < 3; ++d)
      parity("max/argmax over dim " + std::to_string(d), {x},
             [d](const auto& in) {
               const op::MaxResult r = op::max_with_indices(in[0], d);
               return Outs{r.values, r.indices, op::argmax(in[0], d, true)};
             },
             kExact);
  }
  // ties: the first maximum wins on both
  const Tensor ties = tensor({{1, 3, 3, 0}, {2, 2, 2, 2}, {-1, -5, -1, -7}}, kFloat64);
  parity("argmax with ties", {ties}, [](const auto& in) { return Outs{op::argmax(in[0], 1)}; }, kExact);
  const Tensor ref = op::argmax(ties, 1);
  CHECK(ref.to_vector<int64_t>() == std::vector<int64_t>{1, 0, 0});  // the CPU side itself
}

TEST_CASE("cuda parity: softmax and log_softmax, forward and backward", "[cuda]") {
  if (!cuda_or_skip()) return;
  Generator gen(4);
  for (DType dt : kFloats) {
    // large offsets on some rows: the max-shift must hold on both
    const Tensor xf = op::add(randn({9, 300}, gen, dt, 0, 3), op::mul(op::to(randint({9, 1}, 3, gen), dt), 40.0));
    const Tensor gy = randn({9, 300}, gen, dt);
    const Tol tol = pick(dt, kMath32, kMath64);
    parity("softmax", {xf, gy},
           [](const auto& in) {
             const Tensor y = op::softmax(in[0]);
             return Outs{y, op::softmax_backward(y, in[1])};
           },
           tol);
    parity("log_softmax", {xf, gy},
           [](const auto& in) {
             const Tensor y = op::log_softmax(in[0]);
             return Outs{y, op::log_softmax_backward(y, in[1])};
           },
           tol);
  }
}

TEST_CASE("cuda parity: fused cross-entropy forward and backward, with ignore_index", "[cuda]") {
  if (!cuda_or_skip()) return;
  Generator gen(5);
  for (DType dt : kFloats) {
    const int64_t N = 37, V = 1001;
    const Tensor logits = op::to(op::add(randn({N, V}, gen, kFloat64, 0, 2), op::mul(op::to(randint({N, 1}, 2, gen), kFloat64), 50.0)), dt);
    std::vector<int64_t> t = randint({N}, V, gen).to_vector<int64_t>();
    t[3] = t[17] = t[36] = -100;
    const Tensor targets = from_vector(t);
    // lse is O(50): one float32 ulp of it (3.8e-6) moves exp() by that relative amount, hence
    // rel 3e-5 for the gradient in float32.
    const Tol tol = pick(dt, Tol{1e-7, 3e-5}, kMath64);
    parity(std::string("cross_entropy ") + std::string(dtype_name(dt)), {logits, targets},
           [](const auto& in) {
             const op::CrossEntropyResult r = op::cross_entropy_forward(in[0], in[1], -100);
             REQUIRE(r.n_valid == 34);
             return Outs{r.loss, r.lse, op::cross_entropy_backward(in[0], in[1], r.lse, 1.0 / 34, -100)};
           },
           tol);
  }
}

TEST_CASE("cuda parity: layer_norm and rms_norm, forward and backward", "[cuda]") {
  if (!cuda_or_skip()) return;
  Generator gen(6);
  for (DType dt : kFloats) {
    const Tensor x = randn({3, 11, 96}, gen, dt, 0.5, 2.0);
    const Tensor gamma = randn({96}, gen, dt), beta = randn({96}, gen, dt), gy = randn({3, 11, 96}, gen, dt);
    // backward: gx = rstd (g - mean(g) - xhat mean(g xhat)) cancels to O(1e-1) entries: abs 1e-5
    const Tol tol = pick(dt, Tol{1e-5, 1e-5}, kMath64);
    for (bool affine : {true, false}) {
      const Tensor g = affine ? gamma : Tensor(), b = affine ? beta : Tensor();
      parity(std::string("layer_norm ") + (affine ? "affine " : "plain ") + std::string(dtype_name(dt)), {x, g, b, gy},
             [affine](const auto& in) {
               const op::NormResult f = op::layer_norm_forward(in[0], in[1], in[2], 1e-5);
               const op::NormGrads gr = op::layer_norm_backward(in[3], in[0], f.mean, f.rstd, in[1], affine);
               return Outs{f.y, f.mean, f.rstd, gr.gx, gr.ggamma, gr.gbeta};
             },
             tol);
      parity(std::string("rms_norm ") + (affine ? "affine " : "plain ") + std::string(dtype_name(dt)), {x, g, gy},
             [](const auto& in) {
               const op::NormResult f = op::rms_norm_forward(in[0], in[1], 1e-6);
               const op::NormGrads gr = op::rms_norm_backward(in[2], in[0], f.rstd, in[1]);
               return Outs{f.y, f.rstd, gr.gx, gr.ggamma};
             },
             tol);
    }
  }
}

TEST_CASE("cuda parity: embedding gather and a deterministic scatter-add backward", "[cuda]") {
  if (!cuda_or_skip()) return;
  Generator gen(7);
  for (DType dt : kFloats) {
    const int64_t V = 50, D = 24;
    const Tensor weight = randn({V, D}, gen, dt);
    // many repeats of few rows: the backward sums up to ~60 rows into one, in index order
    std::vector<int64_t> idx = randint({4, 100}, 7, gen).to_vector<int64_t>();
    idx[5] = 49;
    const Tensor ix = from_vector(idx, {4, 100});
    const Tensor gout = randn({4, 100, D}, gen, dt);
    parity("embedding forward", {weight, ix}, [](const auto& in) { return Outs{op::embedding(in[0], in[1])}; }, kExact);
    // ops_cuda/embedding.h promises the CPU's order of additions: bit-for-bit equal results
    parity("embedding backward", {gout, ix},
           [V](const auto& in) { return Outs{op::embedding_backward(in[0], in[1], V)}; }, kExact);
    const Tensor g_dev = op::to(gout, Device::CUDA), i_dev = op::to(ix, Device::CUDA);
    const std::vector<double> first = op::embedding_backward(g_dev, i_dev, V).to_vector<double>();
    const std::vector<double> second = op::embedding_backward(g_dev, i_dev, V).to_vector<double>();
    CHECK(first == second);  // run twice: bitwise equal (no float atomics)
  }
}

TEST_CASE("cuda parity: concat, where and masked_fill", "[cuda]") {
  if (!cuda_or_skip()) return;
  Generator gen(8);
  for (DType dt : {kFloat32, kFloat64, kInt64}) {
    const Tensor a = dt == kInt64 ? randint({2, 3, 4}, 100, gen) : randn({2, 3, 4}, gen, dt);
    const Tensor b = dt == kInt64 ? randint({2, 5, 4}, 100, gen) : randn({2, 5, 4}, gen, dt);
    const Tensor c = dt == kInt64 ? randint({2, 1, 4}, 100, gen) : randn({2, 1, 4}, gen, dt);
    parity("concat dim 1", {a, b, c}, [](const auto& in) { return Outs{op::concat({in[0], in[1], in[2]}, 1)}; },
           kExact);
    parity("concat dim 0 and last", {a},
           [](const auto& in) { return Outs{op::concat({in[0], in[0]}, 0), op::concat({in[0], in[0]}, -1)}; }, kExact);
  }
  for (DType dt : kFloats) {
    const Tensor x = randn({3, 4, 5}, gen, dt), y = randn({4, 1}, gen, dt);
    const Tensor cond_f = op::gt(randn({1, 4, 5}, gen, kFloat32), 0.0);  // float condition
    const Tensor cond_i = randint({3, 1, 5}, 2, gen);                      // int64 condition
    parity("where, float condition", {cond_f, x, y},
           [](const auto& in) { return Outs{op::where(in[0], in[1], in[2])}; }, kExact);
    parity("where, int64 condition", {cond_i, x, y},
           [](const auto& in) { return Outs{op::where(in[0], in[1], in[2])}; }, kExact);
    parity("masked_fill -inf", {x, cond_f},
           [](const auto& in) { return Outs{op::masked_fill(in[0], in[1], -INFINITY)}; }, kExact);
  }
}

TEST_CASE("cuda parity: matmul and batched matmul on cuBLAS, TF32 off by default", "[cuda]") {
  if (!cuda_or_skip()) return;
  REQUIRE_FALSE(tf32_allowed());
  Generator gen(9);
  for (DType dt : kFloats) {
    struct Case {
      Shape a, b;
      bool ta, tb;
    };
    const std::vector<Case> cases = {
        {{33, 300}, {300, 17}, false, false},      // plain
        {{300, 33}, {300, 17}, true, false},       // A^T
        {{33, 300}, {17, 300}, false, true},       // B^T
        {{300, 33}, {17, 300}, true, true},        // both
        {{5, 12, 300}, {300, 9}, false, false},    // batch against one matrix (stride 0)
        {{5, 12, 300}, {5, 9, 300}, false, true},  // batch against batch, transposed
        {{2, 1, 7, 300}, {3, 300, 4}, false, false},  // broadcast batch dims
    };
    for (const Case& c : cases) {
      const Tensor a = randn(c.a, gen, dt), b = randn(c.b, gen, dt);
      const double K = 300;
      const Tol tol = pick(dt, Tol{4e-7 * K, 1e-5}, Tol{1e-15 * K, 1e-12});
      parity("matmul " + shape_str(c.a) + (c.ta ? "^T" : "") + " x " + shape_str(c.b) + (c.tb ? "^T" : ""), {a, b},
             [c](const auto& in) { return Outs{op::matmul(in[0], in[1], c.ta, c.tb)}; }, tol);
    }
    // a transposed view goes to cuBLAS as a transpose, a non-contiguous slice is packed first
    const Tensor big = randn({40, 300}, gen, dt), w = randn({300, 8}, gen, dt);
    parity("matmul of views", {big, w},
           [](const auto& in) {
             return Outs{op::matmul(op::transpose(op::transpose(in[0], 0, 1), 0, 1), in[1]),
                         op::matmul(op::slice(in[0], 0, 0, 40, 3), in[1])};
           },
           pick(dt, Tol{4e-7 * 300, 1e-5}, Tol{1e-15 * 300, 1e-12}));
  }
  // TF32 allowed: still close at TF32's precision (2^-11 per input), then switched back
  const bool was = set_allow_tf32(true);
  CHECK_FALSE(was);
  const Tensor a = randn({64, 256}, gen), b = randn({256, 64}, gen);
  parity("matmul with TF32 allowed", {a, b}, [](const auto& in) { return Outs{op::matmul(in[0], in[1])}; },
         Tol{0.05, 1e-2});
  CHECK(set_allow_tf32(false));
}

TEST_CASE("cuda parity: row_sumsq and addmm_, the head metrics' chunk helpers", "[cuda]") {
  if (!cuda_or_skip()) return;
  Generator gen(14);
  for (DType dt : kFloats) {
    const Tensor x = randn({70, 300}, gen, dt);
    // float64 sums of squares on both sides, in different orders: 1e-12 relative (no cancellation)
    parity("row_sumsq of a matrix, a column slice and a transposed view", {x},
           [](const auto& in) {
             return Outs{op::row_sumsq(in[0]), op::row_sumsq(op::narrow(in[0], 1, 7, 200)),
                         op::row_sumsq(op::transpose(in[0], 0, 1))};
           },
           kSum64);
    const Tensor a = randn({300, 40}, gen, dt), b = randn({300, 50}, gen, dt), c = randn({40, 50}, gen, dt);
    parity("addmm_ C = 0.5 A^T B + 2 C", {a, b, c},
           [](const auto& in) {
             const Tensor C = op::clone(in[2]);
             op::addmm_(C, in[0], in[1], true, false, 0.5, 2.0);
             return Outs{C};
           },
           pick(dt, Tol{4e-7 * 300, 1e-5}, Tol{1e-15 * 300, 1e-12}));
  }
}

TEST_CASE("cuda parity: a tiny GPT's loss and every parameter gradient (float32, 1e-4 relative)", "[cuda]") {
  if (!cuda_or_skip()) return;
  nn::LMConfig cfg;
  cfg.backbone = "transformer";
  cfg.vocab = 37;
  cfg.d_model = 16;
  cfg.n_layer = 2;
  cfg.n_head = 2;
  cfg.context = 8;
  cfg.seed = 11;
  auto cpu_model = nn::make_language_model(cfg);
  auto dev_model = nn::make_language_model(cfg);  // same seed: the same weights
  nn::to_device(*dev_model, Device::CUDA);
  REQUIRE(nn::device_of(*dev_model) == Device::CUDA);

  Generator gen(12);
  const Tensor tokens = randint({3, 8}, cfg.vocab, gen);
  std::vector<int64_t> y = randint({3, 8}, cfg.vocab, gen).to_vector<int64_t>();
  y[5] = -100;
  const Tensor targets = from_vector(y, {3, 8});  // on the CPU: the model moves them

  const Tensor loss_cpu = cpu_model->loss(tokens, targets);
  const Tensor loss_dev = dev_model->loss(tokens, targets);
  REQUIRE(loss_dev.device() == Device::CUDA);
  backward(loss_cpu);
  backward(loss_dev);
  const double lc = loss_cpu.item<double>(), ld = loss_dev.item<double>();
  INFO("loss cpu " << lc << ", cuda " << ld);
  CHECK(std::abs(ld - lc) <= 1e-4 * std::abs(lc));

  // Per gradient: max |cuda - cpu| <= 1e-4 max |cpu| (test_golden_gpt.cpp explains the scale).
  // Exception: attn.k.bias's gradient is zero in exact arithmetic (softmax ignores a per-row
  // constant), so both hold rounding noise; its scale is the same layer's k.weight gradient.
  const nn::NamedTensors pc = cpu_model->named_parameters(), pd = dev_model->named_parameters();
  REQUIRE(pc.size() == pd.size());
  auto max_abs = [](const std::vector<double>& v) {
    double m = 0;
    for (double x : v) m = std::max(m, std::abs(x));
    return m;
  };
  auto grad_scale = [&](const std::string& name) {
    const std::string suffix = "k.bias";
    std::string scale_of = name;
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      scale_of = name.substr(0, name.size() - 4) + "weight";
    for (const auto& [n, p] : pc)
      if (n == scale_of) return max_abs(grad_of(p).to_vector<double>());
    FAIL("no parameter " << scale_of);
    return 0.0;
  };
  for (size_t i = 0; i < pc.size(); ++i) {
    INFO(pc[i].first);
    REQUIRE(pc[i].first == pd[i].first);
    const Tensor gc = grad_of(pc[i].second), gd = grad_of(pd[i].second);
    REQUIRE(gc.defined());
    REQUIRE(gd.defined());
    REQUIRE(gd.device() == Device::CUDA);
    const std::vector<double> a = gd.to_vector<double>(), b = gc.to_vector<double>();
    REQUIRE(a.size() == b.size());
    double worst = 0;
    for (size_t k = 0; k < a.size(); ++k) worst = std::max(worst, std::abs(a[k] - b[k]));
    const double scale = grad_scale(pc[i].first);
    INFO("max |diff| " << worst << ", scale " << scale);
    CHECK(scale > 0);
    CHECK(worst <= 1e-4 * scale);
  }
}

TEST_CASE("cuda parity: head metrics on device tensors match the CPU (1e-5 relative, same JSON keys)", "[cuda]") {
  if (!cuda_or_skip()) return;
  Generator gen(13);
  const int64_t N = 96, V = 257, D = 16;
  for (DType dt : kFloats) {
    const Tensor H = randn({N, D}, gen, dt), W = randn({V, D}, gen, dt, 0, 0.5);
    std::vector<int64_t> y = randint({N}, V, gen).to_vector<int64_t>();
    y[0] = y[50] = -100;
    const Tensor targets = from_vector(y);
    analysis::HeadMetricsOptions opts;
    opts.chunk = 40;      // three chunks, the last one short
    opts.topk = 2 * D;    // the randomized spectrum too (same seed: the same Gaussian matrix)
    opts.seed = 3;
    const analysis::HeadMetrics c = analysis::head_metrics(H, W, targets, opts);
    const analysis::HeadMetrics g = analysis::head_metrics(op::to(H, Device::CUDA), op::to(W, Device::CUDA),
                                                           op::to(targets, Device::CUDA), opts);
    // float64: the 1e-5. float32: the big products round differently in cuBLAS and
    // OpenBLAS (~1e-6 of each entry), which the float64 sums carry into the metrics: 1e-4.
    const double rel = dt == kFloat64 ? 1e-5 : 1e-4;
    auto close = [rel](const char* what, double a, double b) {
      INFO(what << ": cuda " << a << ", cpu " << b);
      CHECK(std::abs(a - b) <= rel * std::abs(b) + 1e-12);
    };
    INFO(dtype_name(dt));
    CHECK(g.tokens == c.tokens);
    CHECK(g.basis_rank == c.basis_rank);
    CHECK(g.per_token.count == c.per_token.count);
    close("loss", g.loss, c.loss);
    close("logit_grad_norm", g.logit_grad_norm, c.logit_grad_norm);
    close("visible_norm", g.visible_norm, c.visible_norm);
    close("destroyed_fraction", g.destroyed_fraction, c.destroyed_fraction);
    close("visible_cosine", g.visible_cosine, c.visible_cosine);
    close("per_token.mean", g.per_token.mean, c.per_token.mean);
    close("per_token.p5", g.per_token.p5, c.per_token.p5);
    close("per_token.p50", g.per_token.p50, c.per_token.p50);
    close("per_token.p95", g.per_token.p95, c.per_token.p95);
    close("update.cosine", g.update.cosine, c.update.cosine);
    close("update.backbone_term_norm", g.update.backbone_term_norm, c.update.backbone_term_norm);
    close("update.head_term_norm", g.update.head_term_norm, c.update.head_term_norm);
    REQUIRE(g.spectrum.singular_values.size() == c.spectrum.singular_values.size());
    for (size_t i = 0; i < c.spectrum.singular_values.size(); ++i)
      close("singular value", g.spectrum.singular_values[i], c.spectrum.singular_values[i]);
    // identical JSON layout: the same keys at every level
    const nlohmann::json jg = analysis::to_json_value(g), jc = analysis::to_json_value(c);
    std::function<void(const nlohmann::json&, const nlohmann::json&)> same_keys = [&](const nlohmann::json& a,
                                                                                       const nlohmann::json& b) {
      REQUIRE(a.type_name() == std::string(b.type_name()));
      if (!b.is_object()) return;
      REQUIRE(a.size() == b.size());
      for (auto it = b.begin(); it != b.end(); ++it) {
        INFO("key " << it.key());
        REQUIRE(a.contains(it.key()));
        same_keys(a[it.key()], it.value());
      }
    };
    same_keys(jg, jc);
  }
}

TEST_CASE("cuda: ops on mixed devices and failed device calls give gs::Error naming the op", "[cuda]") {
  if (!cuda_or_skip()) return;
  const Tensor c = ones({2, 3}), d = op::to(ones({2, 3}), Device::CUDA);
  REQUIRE_THROWS_WITH(op::add(c, d), StartsWith("add: tensors on different devices: cpu [2, 3] and cuda [2, 3]"));
  REQUIRE_THROWS_WITH(op::matmul(c, op::transpose(d, 0, 1)), StartsWith("matmul: tensors on different devices"));
  REQUIRE_THROWS_WITH(op::cross_entropy_forward(d, from_vector(std::vector<int64_t>{0, 1})),
                      StartsWith("cross_entropy: logits on cuda but targets on cpu"));
  REQUIRE_THROWS_WITH(op::embedding(d, from_vector(std::vector<int64_t>{0})), StartsWith("embedding: weight [2, 3] on cuda"));
  // An allocation no device can hold: the CUDA status string, the call and the op in one gs::Error.
  REQUIRE_THROWS_AS(empty({int64_t{1} << 46}, kFloat32, Device::CUDA), Error);
  REQUIRE_THROWS_WITH(empty({int64_t{1} << 46}, kFloat32, Device::CUDA),
                      StartsWith("device_alloc: cudaMalloc failed: ") && Contains("bytes requested"));
}

TEST_CASE("cuda: the caching allocator reuses freed blocks and reports bytes in use, peak and cache", "[cuda]") {
  if (!cuda_or_skip()) return;
  cuda_synchronize();
  const CudaMemoryStats s0 = cuda_memory_stats();
  cuda_reset_peak_memory();
  {
    const Tensor t = empty({1000, 1000}, kFloat32, Device::CUDA);  // 4e6 bytes
    const CudaMemoryStats s1 = cuda_memory_stats();
    CHECK(s1.bytes_in_use == s0.bytes_in_use + 4000000);
    CHECK(s1.peak_bytes >= s1.bytes_in_use);
    CHECK(s1.reserved_bytes >= s1.bytes_in_use + s1.cached_bytes);
  }
  const CudaMemoryStats s2 = cuda_memory_stats();
  CHECK(s2.bytes_in_use == s0.bytes_in_use);
  CHECK(s2.peak_bytes >= s0.bytes_in_use + 4000000);
  CHECK(s2.cached_bytes >= 4000000);  // kept for reuse, not handed back
  {
    const Tensor t = empty({1000, 1000}, kFloat32, Device::CUDA);  // the same size class again
    const CudaMemoryStats s3 = cuda_memory_stats();
    CHECK(s3.cache_hits == s2.cache_hits + 1);
    CHECK(s3.device_mallocs == s2.device_mallocs);
  }
  cuda_empty_cache();
  CHECK(cuda_memory_stats().cached_bytes == 0);
  CHECK_FALSE(cuda_device_name().empty());
}

// ---- everywhere, device or not -----------------------------------------------------------------

TEST_CASE("cuda: public allocator stats and the TF32 switch work without a device", "[cuda-stub]") {
  const bool before = tf32_allowed();
  CHECK_FALSE(before);             // off by default
  CHECK_FALSE(set_allow_tf32(true));  // returns the previous setting
  CHECK(tf32_allowed());
  CHECK(set_allow_tf32(false));
  CHECK_FALSE(tf32_allowed());
  if (cuda_available()) return;   // the rest describes a machine without a device
  CHECK(cuda_device_count() == 0);
  const CudaMemoryStats s = cuda_memory_stats();  // nothing was ever allocated on a device
  CHECK(s.bytes_in_use == 0);
  CHECK(s.peak_bytes == 0);
  CHECK(s.cached_bytes == 0);
  CHECK(s.device_mallocs == 0);
  REQUIRE_THROWS_AS(cuda_device_name(), Error);
  REQUIRE_THROWS_AS(cuda_synchronize(), Error);
  // Moving a model to a device that is not there: a gs::Error, and the model stays usable
  nn::LMConfig cfg;
  cfg.vocab = 11;
  cfg.d_model = 8;
  cfg.n_layer = 1;
  cfg.n_head = 2;
  cfg.context = 4;
  auto model = nn::make_language_model(cfg);
  REQUIRE_THROWS_AS(nn::to_device(*model, Device::CUDA), Error);
  CHECK(nn::device_of(*model) == Device::CPU);
  const Tensor tokens = from_vector(std::vector<int64_t>{1, 2, 3, 4}, {1, 4});
  CHECK(std::isfinite(model->loss(tokens, tokens).item<double>()));
}

TEST_CASE("cli: --device is checked before any work: a clear error and exit 2 without a device", "[cuda-stub][cli]") {
  REQUIRE_THROWS_WITH(cli::run_analyze({"--device", "gpu"}), "--device: must be cpu or cuda, got 'gpu'");
  REQUIRE_THROWS_WITH(cli::run_train({"--device", "gpu"}), "--device: must be cpu or cuda, got 'gpu'");
  if (cuda_available()) return;  // on a device machine device_check runs the CLI on cuda instead
  const std::string expect = cuda_built() ? "--device: cuda: no CUDA device found on this machine"
                                          : "--device: cuda: not built with CUDA";
  // missing input files would be a later error: the device is refused first
  REQUIRE_THROWS_WITH(cli::run_analyze({"--device", "cuda", "--head", "/nonexistent/W.npy"}), StartsWith(expect));
  REQUIRE_THROWS_WITH(cli::run_train({"--device", "cuda", "--steps", "1"}), StartsWith(expect));

  // the binary: exit code 2, the message on stderr, no JSON file
  const std::filesystem::path exe =
      std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "gradscope";
  const std::string tmp = std::filesystem::temp_directory_path() / "gs_cuda_cli_test";
  std::filesystem::remove_all(tmp);
  std::filesystem::create_directories(tmp);
  const std::string cmd = exe.string() + " analyze --device cuda --checkpoint " + tmp + "/none.safetensors --json " +
                          tmp + "/out.json 2>" + tmp + "/err.txt";
  const int rc = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 2);
  std::ifstream err(tmp + "/err.txt");
  const std::string text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Contains("gradscope analyze: " + expect));
  CHECK_FALSE(std::filesystem::exists(tmp + "/out.json"));
  std::filesystem::remove_all(tmp);
}
