// The scalar references of the unary ops (ops_common/unary_ref.h) and the kernels built on them.
// Every op of the table GS_UNARY_OPS is run without being named here, so a new op is tested by
// adding it to the table and giving it a UnaryRef (docs/ADDING_AN_OP.md):
//   1. each f' against central differences of its f (float64);
//   2. the CPU kernels against the reference: bit for bit on the scalar path, within a stated
//      tolerance where a vectorised float32 routine replaces it (GELU, ops_cpu/vec_math.h);
//   3. on a device ([cuda]), the CUDA kernels against the reference.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda_test_helpers.h"
#include "ops_common/unary_ref.h"
#include "ops_cpu/elementwise.h"
#include "tensor/ops.h"

namespace {

using gs::kernel::Unary;
using gs::kernel::unary_df;
using gs::kernel::unary_f;

// Test points: both signs, 0.1 to 8 in magnitude (0 and the kinks of relu and abs stay 0.1 away;
// both branches of sigmoid; exp up to e^8), kept where the op's float64 reference is finite with
// a finite derivative (log and sqrt: x > 0 only).
template <Unary OP>
std::vector<double> points() {
  std::vector<double> xs;
  for (int i = 0; i <= 213; ++i) {
    const double m = 0.1 + 0.0371 * i;
    for (double x : {m, -m}) {
      const double y = unary_f<OP>(x);
      if (std::isfinite(y) && std::isfinite(unary_df<OP>(x, y))) xs.push_back(x);
    }
  }
  return xs;
}

// Ops whose float32 CPU kernel is a vectorised routine rather than the scalar reference.
constexpr bool vectorised_float(Unary op) { return op == Unary::gelu; }

template <Unary OP, class T>
void check_cpu_kernels() {
  const std::vector<double> xd = points<OP>();
  std::vector<T> x(xd.begin(), xd.end());
  const auto n = static_cast<int64_t>(x.size());
  std::vector<T> y(x.size()), gx(x.size()), ones(x.size(), T(1));
  gs::cpu::unary<T>(OP, n, x.data(), y.data());
  gs::cpu::unary_backward<T>(OP, n, x.data(), y.data(), ones.data(), gx.data());  // gx = 1 * f'
  INFO(gs::kernel::op_name(OP) << (std::is_same_v<T, float> ? " float32" : " float64"));
  if (std::is_same_v<T, float> && vectorised_float(OP)) {
    // The vectorised tanh is 1 - 2 / (exp(2u) + 1) with a 2-ulp exp: an absolute error of a few
    // float ulps of 1 (~4e-7) in t, which 0.5 x (1 + t) turns into ~2e-7 |x|, plus the rounding of
    // the product (the bound tests/test_kernels_vec_math.cpp uses too).
    for (size_t i = 0; i < x.size(); ++i) {
      const double xi = x[i], yi = unary_f<OP>(xi);
      const double tol = 1e-6 * std::max(1.0, std::abs(xi));
      INFO("x = " << xi);
      REQUIRE(std::abs(y[i] - yi) <= tol);
      REQUIRE(std::abs(gx[i] - unary_df<OP>(xi, yi)) <= tol);
    }
    return;
  }
  // The scalar path is the reference itself, instantiated for T: the same bits.
  for (size_t i = 0; i < x.size(); ++i) {
    INFO("x = " << x[i]);
    REQUIRE(y[i] == unary_f<OP>(x[i]));
    REQUIRE(gx[i] == unary_df<OP>(x[i], y[i]));
  }
}

}  // namespace

TEST_CASE("unary references: every f' matches central differences of its f", "[kernels][unary]") {
  // Central differences with h = 1e-5 in float64 err by h^2/6 |f'''| (truncation) plus about
  // 2^-53 |f| / h (rounding): below 1e-8 relative to 1 + |f'| over these points (worst: log and
  // sqrt near 0.1, exp near 8). A wrong derivative is off by far more than the 1e-7 allowed.
  for (Unary u : gs::kernel::kUnaryOps) {
    gs::kernel::visit_unary(u, [&]<Unary OP>() {
      const std::vector<double> xs = points<OP>();
      INFO(gs::kernel::op_name(OP));
      REQUIRE(xs.size() >= 200);
      const double h = 1e-5;
      double worst = 0, worst_x = 0;
      for (double x : xs) {
        const double numeric = (unary_f<OP>(x + h) - unary_f<OP>(x - h)) / (2 * h);
        const double analytic = unary_df<OP>(x, unary_f<OP>(x));
        const double err = std::abs(analytic - numeric) / (1 + std::abs(numeric));
        if (std::isnan(err) || err > worst) worst = err, worst_x = x;  // NaN sticks
      }
      INFO("worst error " << worst << " (relative to 1 + |f'|) at x = " << worst_x);
      CHECK(worst <= 1e-7);
    });
  }
}

TEST_CASE("unary references: the CPU kernels compute the reference for every op", "[kernels][unary]") {
  for (Unary u : gs::kernel::kUnaryOps) {
    gs::kernel::visit_unary(u, [&]<Unary OP>() {
      check_cpu_kernels<OP, float>();
      check_cpu_kernels<OP, double>();
    });
  }
}

TEST_CASE("unary references: the CUDA kernels of every op against the reference", "[cuda][kernels][unary]") {
  if (!gs::testing::cuda_or_skip()) return;
  using namespace gs;
  // Tolerances as in tests/test_cuda_parity.cpp (kMath32, kMath64): CUDA's libdevice and the
  // reference's float64 are each within a few ulp; where f or f' is a small difference of values
  // near 1 (GELU, sigmoid and silu far from 0) the absolute part covers the cancellation.
  for (Unary u : kernel::kUnaryOps) {
    kernel::visit_unary(u, [&]<Unary OP>() {
      for (DType dt : {kFloat32, kFloat64}) {
        const gs::testing::Tol tol = dt == kFloat32 ? gs::testing::kMath32 : gs::testing::kMath64;
        // the points rounded to the tested dtype, then the reference in float64 on them
        const Tensor x_host = op::to(from_vector(points<OP>()), dt);
        const std::vector<double> xs = x_host.to_vector<double>();
        std::vector<double> f_ref, df_ref;
        for (double x : xs) {
          f_ref.push_back(unary_f<OP>(x));
          df_ref.push_back(unary_df<OP>(x, f_ref.back()));
        }
        const Tensor x = op::to(x_host, Device::CUDA);
        const Tensor y = op::unary(OP, x);
        const Tensor gx = op::unary_backward(OP, x, y, op::to(ones_like(x_host), Device::CUDA));
        REQUIRE(y.device() == Device::CUDA);
        const std::vector<double> got_y = y.to_vector<double>(), got_gx = gx.to_vector<double>();
        REQUIRE(got_y.size() == xs.size());
        REQUIRE(got_gx.size() == xs.size());
        size_t bad = 0;
        for (size_t i = 0; i < xs.size(); ++i) {
          const bool ok_y = std::abs(got_y[i] - f_ref[i]) <= tol.abs + tol.rel * std::abs(f_ref[i]);
          const bool ok_gx = std::abs(got_gx[i] - df_ref[i]) <= tol.abs + tol.rel * std::abs(df_ref[i]);
          if (!(ok_y && ok_gx) && bad++ == 0)
            FAIL_CHECK(kernel::op_name(OP) << " " << dtype_name(dt) << " at x = " << xs[i] << ": cuda f " << got_y[i]
                                           << " f' " << got_gx[i] << ", reference f " << f_ref[i] << " f' "
                                           << df_ref[i]);
        }
        CHECK(bad == 0);
      }
    });
  }
}
