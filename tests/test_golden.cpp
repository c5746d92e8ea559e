// Golden tests (oracle 2): composites rebuilt with gradscope's differentiable ops against the
// outputs and gradients PyTorch 1.13 computed from the same inputs (scripts/golden/make_golden.py,
// files and format in tests/golden/README.md). Each case runs in float64 and in float32; the
// float32 files were computed by torch in float32 from the same inputs rounded to float32.
//
// Tolerance: every element must satisfy |ours - torch| <= tol * max(1, |torch|), tol = 1e-6 in
// float64 and 1e-4 in float32 (the numbers issue 2 asks for). Relative for values above 1, absolute
// below: all inputs are O(1) by construction, so an entry near zero is a cancellation of O(1) terms
// whose rounding error is absolute, and a purely relative test there would measure noise. The
// expected disagreement is a few ulps times the length of the longest sum (<= 8 terms here):
// ~1e-15 in float64 and ~1e-6 in float32, so both tolerances leave orders of magnitude of margin
// while a wrong vjp (a missing term, a wrong scale, a wrong mask) moves entries by O(0.01..1).
#include <catch2/catch.hpp>

#include <cmath>
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

double tol_for(DType t) { return t == kFloat64 ? 1e-6 : 1e-4; }

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
