// Golden tests (oracle 2): composites rebuilt with gradscope's differentiable ops against the
// outputs and gradients PyTorch 1.13 computed from the same inputs (scripts/golden/make_golden.py,
// files and format in tests/golden/README.md). Each case runs in float64 and in float32; the
// float32 files were computed by torch in float32 from the same inputs rounded to float32.
//
// Tolerance: every element must satisfy |ours - torch| <= tol * max(1, |torch|), tol = 1e-10 in
// float64 and 1e-4 in float32. Relative for values above 1, absolute below: all inputs are O(1)
// by construction, so an entry near zero is a cancellation of O(1) terms whose rounding error is
// absolute, and a purely relative test there would measure noise. The expected disagreement is a
// few ulps times the length of the longest sum (<= 8 terms here): ~1e-15 in float64 and ~1e-6 in
// float32. In float64, 1e-10 leaves about five orders of magnitude above that rounding (room for
// another BLAS or summation order) and catches far smaller modelling differences than the O(0.01..1)
// a wrong vjp produces (a missing term, a wrong scale, a wrong mask, a tie or a kink sent the
// wrong way). Float32 keeps 1e-4: its own rounding is ~1e-6, and the float64 files are the
// precise check.
// Measured (torch 1.13 files, OpenBLAS, 2 threads): <= 1.5e-15 (float64) and <= 5.4e-7 (float32);
// GS_GOLDEN_VERBOSE=1 prints each worst.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

#include "autograd/ops.h"
#include "golden_loader.h"
#include "tensor/ops.h"

using namespace gs;
using gs::testing::GoldenFile;

namespace {

std::string golden_path(const std::string& file) { return std::string(GS_TEST_DATA_DIR) + "/golden/" + file; }

double tol_for(DType t) { return t == kFloat64 ? 1e-10 : 1e-4; }

// Element-wise comparison with the rule above; the message names the file, the tensor and the
// worst element.
void require_close(const Tensor& ours, const GoldenFile& gf, const std::string& name) {
  const Tensor want = gf.get(name);
  INFO("golden file " << gf.path() << ", tensor '" << name << "'");
  REQUIRE(ours.defined());
  REQUIRE(shape_str(ours.shape()) == shape_str(want.shape()));
  REQUIRE(dtype_name(ours.dtype()) == dtype_name(want.dtype()));
  const double tol = tol_for(want.dtype());
  const std::vector<double> a = ours.to_vector<double>(), b = want.to_vector<double>();
  double worst = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double err = std::abs(a[i] - b[i]) / std::max(1.0, std::abs(b[i]));
    if (!(err <= worst)) {  // NaN counts as worst
      worst = err;
      worst_i = i;
      if (std::isnan(err)) break;
    }
  }
  INFO("worst scaled error " << worst << " at flat index " << worst_i << ": ours " << a[worst_i] << ", torch "
                             << b[worst_i] << " (tol " << tol << ")");
  if (std::getenv("GS_GOLDEN_VERBOSE")) WARN(gf.path() << " " << name << " worst " << worst);
  REQUIRE(worst <= tol);
}

// A golden input as a leaf that requires grad (a fresh tensor per call).
Tensor leaf(const GoldenFile& gf, const std::string& name) { return requires_grad(gf.get(name)); }

// Single op `name` in ops_<sfx>.bin: inputs name.<in>, output name.y, upstream gradient name.R,
// input gradients name.grad.<in> (floating inputs only).
template <class F>
void check_single_op(const GoldenFile& gf, const std::string& name, const std::vector<std::string>& ins, F f) {
  std::vector<Tensor> x;
  for (const auto& in : ins) {
    Tensor t = gf.get(name + "." + in);
    x.push_back(is_floating(t.dtype()) ? requires_grad(t) : t);
  }
  const Tensor y = f(x);
  require_close(y, gf, name + ".y");
  backward(y, gf.get(name + ".R"));
  for (size_t i = 0; i < ins.size(); ++i)
    if (is_floating(x[i].dtype())) require_close(grad_of(x[i]), gf, name + ".grad." + ins[i]);
}

const char* kSuffixes[] = {"f64", "f32"};

}  // namespace

TEST_CASE("golden: loader reads the format and names the file in its errors", "[golden]") {
  const GoldenFile gf(golden_path("ops_f64.bin"));
  const Tensor idx = gf.get("embedding.idx");
  CHECK(idx.dtype() == kInt64);
  CHECK(idx.to_vector<int64_t>() == std::vector<int64_t>{1, 4, 1, 0, 1, 4});
  CHECK(gf.get("tanh.x").dtype() == kFloat64);
  CHECK(GoldenFile(golden_path("ops_f32.bin")).get("tanh.x").dtype() == kFloat32);
  CHECK(gf.get("where.cond").dtype() == kInt64);
  CHECK(GoldenFile(golden_path("ops_f32.bin")).get("where.cond").dtype() == kInt64);
  CHECK_THROWS_WITH(gf.get("nope"), Catch::Contains("ops_f64.bin") && Catch::Contains("'nope'"));
  CHECK_THROWS_WITH(GoldenFile(golden_path("missing.bin")), Catch::Contains("missing.bin"));

  // A truncated copy and a file with a bad magic are refused with the path in the message.
  const std::string tmp =
      (std::filesystem::temp_directory_path() / ("gs_golden_bad_" + std::to_string(::getpid()) + ".bin")).string();
  {
    std::ifstream in(golden_path("ops_f64.bin"), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    std::ofstream(tmp, std::ios::binary) << bytes.substr(0, bytes.size() - 3);
  }
  CHECK_THROWS_WITH(GoldenFile(tmp), Catch::Contains(tmp) && Catch::Contains("past the end"));
  std::ofstream(tmp, std::ios::binary) << "NOTGOLD!";
  CHECK_THROWS_WITH(GoldenFile(tmp), Catch::Contains(tmp) && Catch::Contains("bad magic"));
  std::remove(tmp.c_str());
}

TEST_CASE("golden: elementwise ops against torch", "[golden][elementwise]") {
  for (const char* sfx : kSuffixes) {
    const GoldenFile gf(golden_path(std::string("ops_") + sfx + ".bin"));
    check_single_op(gf, "pow", {"a", "b"}, [](auto& x) { return pow(x[0], x[1]); });
    check_single_op(gf, "pow_scalar", {"x"}, [](auto& x) { return pow(x[0], 2.5); });
    check_single_op(gf, "sigmoid", {"x"}, [](auto& x) { return sigmoid(x[0]); });
    check_single_op(gf, "silu", {"x"}, [](auto& x) { return silu(x[0]); });
    check_single_op(gf, "tanh", {"x"}, [](auto& x) { return tanh(x[0]); });
    check_single_op(gf, "gelu", {"x"}, [](auto& x) { return gelu(x[0]); });
  }
}

TEST_CASE("golden: exp, log, sqrt, relu, abs, maximum and minimum against torch", "[golden][elementwise]") {
  for (const char* sfx : kSuffixes) {
    const GoldenFile gf(golden_path(std::string("ops_") + sfx + ".bin"));
    check_single_op(gf, "exp", {"x"}, [](auto& x) { return exp(x[0]); });
    check_single_op(gf, "log", {"x"}, [](auto& x) { return log(x[0]); });    // x in [0.3, 3]
    check_single_op(gf, "sqrt", {"x"}, [](auto& x) { return sqrt(x[0]); });  // x in [0.3, 3]
    // |x| >= 0.2: no element sits on the kink at 0, where the two engines may pick different subgradients
    check_single_op(gf, "relu", {"x"}, [](auto& x) { return relu(x[0]); });
    check_single_op(gf, "abs", {"x"}, [](auto& x) { return abs(x[0]); });
    // maximum: a [3, 4], b [4] (b's gradient sums over the rows); minimum: a [4], b [3, 4]. Every
    // pair is >= 0.2 apart, so each element's gradient goes to exactly one side in both engines.
    check_single_op(gf, "maximum", {"a", "b"}, [](auto& x) { return maximum(x[0], x[1]); });
    check_single_op(gf, "minimum", {"a", "b"}, [](auto& x) { return minimum(x[0], x[1]); });
  }
}

TEST_CASE("golden: where, concat, narrow and slice against torch", "[golden][index]") {
  for (const char* sfx : kSuffixes) {
    const GoldenFile gf(golden_path(std::string("ops_") + sfx + ".bin"));
    // cond [3, 4] int64 (values 0, 1 and 2: nonzero takes a), a [3, 4], b [4] broadcast over the rows
    REQUIRE(gf.get("where.cond").dtype() == kInt64);
    check_single_op(gf, "where", {"cond", "a", "b"}, [](auto& x) { return where(x[0], x[1], x[2]); });
    // [2, 2, 3], [2, 1, 3], [2, 3, 3] joined on dim 1 -> [2, 6, 3]
    check_single_op(gf, "concat", {"a", "b", "c"}, [](auto& x) { return concat({x[0], x[1], x[2]}, 1); });
    // columns 1..3 of [4, 6]; the other columns' gradient is zero
    check_single_op(gf, "narrow", {"x"}, [](auto& x) { return narrow(x[0], 1, 1, 3); });
    // torch x[:, 1:6:2]: columns 1, 3, 5 of [3, 7]
    check_single_op(gf, "slice", {"x"}, [](auto& x) { return slice(x[0], 1, 1, 6, 2); });
  }
}

TEST_CASE("golden: softmax, norms, embedding and reductions against torch", "[golden][softmax][norm][embedding][reduce]") {
  for (const char* sfx : kSuffixes) {
    const GoldenFile gf(golden_path(std::string("ops_") + sfx + ".bin"));
    check_single_op(gf, "log_softmax", {"x"}, [](auto& x) { return log_softmax(x[0]); });
    check_single_op(gf, "softmax", {"x"}, [](auto& x) { return softmax(x[0]); });
    // torch side: x * rsqrt(mean(x^2, -1) + 1e-6) * g, written as a composite (1.13 has no rms_norm)
    check_single_op(gf, "rms_norm", {"x", "g"}, [](auto& x) { return rms_norm(x[0], x[1], 1e-6); });
    // idx [[1, 4, 1], [0, 1, 4]]: rows 1 and 4 of the weight gradient sum three and two rows of R
    check_single_op(gf, "embedding", {"weight", "idx"}, [](auto& x) { return embedding(x[0], x[1]); });
    check_single_op(gf, "sum", {"x"}, [](auto& x) { return sum(x[0], {0, 2}, true); });
    check_single_op(gf, "mean", {"x"}, [](auto& x) { return mean(x[0], {1}); });
    check_single_op(gf, "max", {"x"}, [](auto& x) { return max(x[0], 2, true); });
  }
}

TEST_CASE("golden: 2-layer MLP with gelu and cross-entropy (one ignored row)", "[golden][mlp]") {
  for (const char* sfx : kSuffixes) {
    const GoldenFile gf(golden_path(std::string("mlp_ce_") + sfx + ".bin"));
    const Tensor x = leaf(gf, "x"), W1 = leaf(gf, "W1"), b1 = leaf(gf, "b1"), W2 = leaf(gf, "W2"), b2 = leaf(gf, "b2");
    const Tensor targets = gf.get("targets");
    REQUIRE(targets.to_vector<int64_t>()[2] == -100);  // the ignored row the case is about

    // linear(x, W, b) = x W^T + b, as torch.nn.functional.linear
    const Tensor h = gelu(add(matmul(x, transpose(W1, 0, 1)), b1));
    const Tensor logits = add(matmul(h, transpose(W2, 0, 1)), b2);
    const Tensor loss = cross_entropy(logits, targets);
    require_close(logits, gf, "logits");
    require_close(loss, gf, "loss");

    backward(loss);
    require_close(grad_of(x), gf, "grad.x");
    require_close(grad_of(W1), gf, "grad.W1");
    require_close(grad_of(b1), gf, "grad.b1");
    require_close(grad_of(W2), gf, "grad.W2");
    require_close(grad_of(b2), gf, "grad.b2");
  }
}

TEST_CASE("golden: causal attention-like composite with layer_norm", "[golden][attention]") {
  for (const char* sfx : kSuffixes) {
    const GoldenFile gf(golden_path(std::string("attention_like_") + sfx + ".bin"));
    const Tensor x = leaf(gf, "x"), gamma = leaf(gf, "gamma"), beta = leaf(gf, "beta");
    const Tensor Wq = leaf(gf, "Wq"), Wk = leaf(gf, "Wk"), Wv = leaf(gf, "Wv");
    const Tensor R = gf.get("R");
    REQUIRE(x.shape() == Shape{2, 4, 6});
    const int64_t T = x.size(1), D = x.size(2);

    const Tensor ln = layer_norm(x, gamma, beta, 1e-5);
    const Tensor q = matmul(ln, transpose(Wq, 0, 1));  // [B, T, D] @ [D, D], batch broadcast
    const Tensor k = matmul(ln, transpose(Wk, 0, 1));
    const Tensor v = matmul(ln, transpose(Wv, 0, 1));
    const Tensor scores = div(matmul(q, transpose(k, 1, 2)), std::sqrt(static_cast<double>(D)));
    std::vector<int64_t> causal(static_cast<size_t>(T * T));
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = 0; j < T; ++j) causal[static_cast<size_t>(i * T + j)] = j > i ? 1 : 0;
    const Tensor masked = masked_fill(scores, from_vector(causal, {T, T}), -INFINITY);  // [T, T] broadcasts over B
    const Tensor out = matmul(softmax(masked), v);
    const Tensor loss = sum(mul(out, R));
    require_close(out, gf, "out");
    require_close(loss, gf, "loss");

    backward(loss);
    require_close(grad_of(x), gf, "grad.x");
    require_close(grad_of(gamma), gf, "grad.gamma");
    require_close(grad_of(beta), gf, "grad.beta");
    require_close(grad_of(Wq), gf, "grad.Wq");
    require_close(grad_of(Wk), gf, "grad.Wk");
    require_close(grad_of(Wv), gf, "grad.Wv");
  }
}
