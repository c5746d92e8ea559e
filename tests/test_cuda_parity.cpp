// CUDA against CPU (oracle 3 of the design): every op family runs on the same inputs on the CPU and on
// their device copies, and the device result must satisfy, element by element,
//     |cuda - cpu| <= tol.abs + tol.rel * |cpu|.
// Whole programs (a tiny GPT, the head metrics, allocator, device errors) are in
// test_cuda_model.cpp; the shared helpers in cuda_test_helpers.h.
//
// Tests tagged [cuda] need a device: without one, cuda_or_skip() records a visible warning
// ("no CUDA device: ...") and the test passes, so the suite passes on machines without a GPU and
// the skip shows in the output of `gs_tests "[cuda]"`.
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
//   model / metrics  the bounds the CPU tests hold them to: 1e-4 relative to each gradient's
//                    largest entry (as in test_golden_gpt.cpp) in float32; head metrics 1e-5
//                    relative in float64.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "cuda_test_helpers.h"
#include "tensor/lapack.h"
#include "tensor/ops.h"

using namespace gs;
using namespace gs::testing;
using gs::op::Binary;
using gs::op::Unary;

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

TEST_CASE("cuda parity: dtype conversion runs on the device, every pair, strided sources", "[cuda]") {
  // One C++ conversion per element on both sides (double -> float rounds to nearest, float ->
  // int64 truncates): the bits must agree.
  if (!cuda_or_skip()) return;
  Generator gen(16);
  std::vector<double> v = op::mul(randn({6, 7}, gen, kFloat64), full({1}, 40.0, kFloat64)).to_vector<double>();
  // and the inputs where a plain C++ cast is undefined: both devices follow ops_cpu/copy.h
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> special = {std::nan(""), inf, -inf, 1e30, -1e30, 9223372036854775808.0, -2.9};
  std::copy(special.begin(), special.end(), v.begin());
  const Tensor f64 = from_vector(v, {6, 7});
  const std::vector<Tensor> sources = {f64, op::to(f64, kFloat32), op::to(f64, kInt64)};
  for (const Tensor& x : sources)
    for (DType dt : {kFloat32, kFloat64, kInt64}) {
      const std::string what = std::string(dtype_name(x.dtype())) + " -> " + std::string(dtype_name(dt));
      parity(what, {x},
             [dt](const auto& in) {
               return Outs{op::to(in[0], dt), op::to(op::transpose(in[0], 0, 1), dt),
                           op::to(op::expand(op::narrow(in[0], 0, 2, 1), {3, 7}), dt)};
             },
             kExact);
    }
}

namespace {
double max_abs_diff(const Tensor& a, const Tensor& b) {  // both on the CPU, same shape
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

Tensor identity(int64_t n) {  // float64 [n, n] on the CPU
  std::vector<double> e(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) e[static_cast<size_t>(i * n + i)] = 1;
  return from_vector(e, {n, n});
}
}  // namespace

TEST_CASE("cuda parity: orthonormal_basis and svd_values on cuSOLVER match LAPACK", "[cuda]") {
  if (!cuda_or_skip()) return;
  Generator gen(15);
  // Q itself is defined up to a rotation within the column space (Householder signs may differ
  // between LAPACK and cuSOLVER), so what must agree is the rank, the singular values and the
  // projector Q Q^T; Q must be orthonormal and reconstruct A on the device. Both sides factorize
  // in float64: 1e-12 relative to sigma_max is hundreds of ulps of slack for m, n <= 60.
  auto check_basis = [](const Tensor& A, const std::string& what) {
    INFO(what << ", " << dtype_name(A.dtype()) << " " << shape_str(A.shape()));
    const op::OrthonormalBasis c = op::orthonormal_basis(A);
    const op::OrthonormalBasis g = op::orthonormal_basis(op::to(A, Device::CUDA));
    REQUIRE(g.rank == c.rank);
    REQUIRE(g.Q.device() == Device::CUDA);
    REQUIRE(g.coeffs.device() == Device::CPU);
    REQUIRE(shape_str(g.Q.shape()) == shape_str(c.Q.shape()));
    REQUIRE(shape_str(g.coeffs.shape()) == shape_str(c.coeffs.shape()));
    REQUIRE(g.singular_values.size() == c.singular_values.size());
    const double s0 = c.singular_values.empty() ? 0 : c.singular_values[0];
    for (size_t i = 0; i < c.singular_values.size(); ++i)
      CHECK(std::abs(g.singular_values[i] - c.singular_values[i]) <= 1e-12 * s0);
    if (c.rank == 0) return;
    const double q_tol = A.dtype() == kFloat32 ? 1e-6 : 1e-12;  // Q is stored in A's dtype
    const Tensor Qg = op::to(op::to(g.Q, Device::CPU), kFloat64), Qc = op::to(c.Q, kFloat64);
    const Tensor I = identity(g.rank);
    CHECK(max_abs_diff(op::matmul(Qg, Qg, true, false), I) <= q_tol);
    const Tensor Pg = op::matmul(Qg, Qg, false, true), Pc = op::matmul(Qc, Qc, false, true);
    CHECK(max_abs_diff(Pg, Pc) <= q_tol);
    // A ~= Q coeffs: exactly when the rank is full, up to the dropped singular values otherwise
    const Tensor rec = op::matmul(Qg, g.coeffs);
    const double drop = g.rank < static_cast<int64_t>(c.singular_values.size()) ? c.singular_values[g.rank] : 0.0;
    CHECK(max_abs_diff(rec, op::to(A, kFloat64)) <= q_tol * s0 + drop);
  };
  for (DType dt : kFloats) {
    const Tensor tall = randn({60, 9}, gen, dt), wide = randn({7, 40}, gen, dt);
    check_basis(tall, "tall, full rank (r == k: Q = Q1)");
    check_basis(wide, "wide, full rank (k = m < n)");
    // column 6 := column 2: rank 8 of 9 (r < k: Q = Q1 U[:, :r], coeffs = S_r V^T)
    std::vector<double> v = tall.to_vector<double>();
    for (int64_t i = 0; i < 60; ++i) v[i * 9 + 6] = v[i * 9 + 2];
    check_basis(op::to(from_vector(v, {60, 9}), dt), "tall, one duplicate column");
    // row 5 := row 1 of the wide matrix: k = 7 < n = 40 and r = 6 < k, where the leading
    // dimensions of the r < k branch (Ut's n, coeffs' n) differ from k
    std::vector<double> w = wide.to_vector<double>();
    for (int64_t j = 0; j < 40; ++j) w[5 * 40 + j] = w[1 * 40 + j];
    check_basis(op::to(from_vector(w, {7, 40}), dt), "wide, one duplicate row");
    check_basis(zeros({6, 3}, dt), "zero matrix: rank 0");
    for (const Tensor& A : {tall, wide}) {
      const std::vector<double> sc = op::svd_values(A), sg = op::svd_values(op::to(A, Device::CUDA));
      REQUIRE(sg.size() == sc.size());
      for (size_t i = 0; i < sc.size(); ++i) CHECK(std::abs(sg[i] - sc[i]) <= 1e-12 * sc[0]);
    }
  }
  // a NaN is refused with the same message as on the CPU, before cuSOLVER sees it
  std::vector<double> bad(12, 1.0);
  bad[7] = std::nan("");
  const Tensor B = op::to(from_vector(bad, {4, 3}), Device::CUDA);
  CHECK_THROWS_WITH(op::orthonormal_basis(B), "orthonormal_basis: A [4, 3] has NaN or Inf entries");
  CHECK_THROWS_WITH(op::svd_values(B), "svd_values: A [4, 3] has NaN or Inf entries");
}
