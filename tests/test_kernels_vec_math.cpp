// The vectorised float32 routines (ops_cpu/vec_math.h) against double-precision references; GELU's
// is the scalar reference of ops_common/unary_ref.h.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ops_common/unary_ref.h"
#include "ops_cpu/vec_math.h"

namespace vec = gs::cpu::vec;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Distance in units of the float spacing at the exact value (rounded to float).
double ulps(float got, double exact) {
  const float r = static_cast<float>(exact);
  const double spacing = std::nextafter(r, kInf) - r;
  return std::abs(static_cast<double>(got) - exact) / spacing;
}

// GELU's scalar reference (ops_common/unary_ref.h) in float64: the formula the scalar kernels and
// the CUDA kernels run, written once.
using GeluRef = gs::kernel::UnaryRef<gs::kernel::Unary::gelu>;
double gelu_ref(double x) { return GeluRef::f(x); }
double gelu_grad_ref(double x) { return GeluRef::df(x, GeluRef::f(x)); }

std::vector<float> uniform(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

}  // namespace

TEST_CASE("vec::exp is within 2 ulp of exp over the whole normal range", "[kernels][vec]") {
  INFO("instruction set: " << vec::isa_name());
  // dense grid plus random points; lengths not a multiple of any vector width
  std::vector<float> x;
  for (float v = -87.3f; v < 88.7f; v += 0.00731f) x.push_back(v);
  auto r = uniform(100003, -20.0f, 20.0f, 7);
  x.insert(x.end(), r.begin(), r.end());
  std::vector<float> y(x.size());
  vec::exp(static_cast<int64_t>(x.size()), x.data(), y.data());
  double worst = 0;
  float worst_x = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double u = ulps(y[i], std::exp(static_cast<double>(x[i])));
    if (u > worst) worst = u, worst_x = x[i];
  }
  INFO("worst " << worst << " ulp at x = " << worst_x);
  CHECK(worst <= 2.0);
}

TEST_CASE("vec::exp edge values: 0, infinities, NaN, flush below the normal range", "[kernels][vec]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {0.0f, -kInf, kInf, nan, -88.0f, -100.0f, 89.0f, 88.72283172607422f, 1.0f};
  std::vector<float> y(x.size());
  vec::exp(static_cast<int64_t>(x.size()), x.data(), y.data());
  CHECK(y[0] == 1.0f);
  CHECK(y[1] == 0.0f);
  CHECK(y[2] == kInf);
  CHECK(std::isnan(y[3]));
  CHECK(y[4] == 0.0f);  // exp(-88) = 6e-39 is below the smallest normal float: flushed (documented)
  CHECK(y[5] == 0.0f);
  CHECK(y[6] == kInf);  // exp(89) > FLT_MAX
  CHECK(std::isfinite(y[7]));
  CHECK(ulps(y[7], std::exp(88.72283172607422)) <= 2.0);
  CHECK(ulps(y[8], std::exp(1.0)) <= 2.0);
}

TEST_CASE("vec::max skips NaN like `x > m ? x : m` and handles every tail length", "[kernels][vec]") {
  for (int64_t n : {0, 1, 15, 16, 17, 33, 1000}) {
    auto x = uniform(static_cast<size_t>(n), -5.0f, 5.0f, static_cast<uint32_t>(n) + 1);
    float expect = -kInf;
    for (float v : x) expect = v > expect ? v : expect;
    CHECK(vec::max(n, x.data()) == expect);
  }
  std::vector<float> x = {std::numeric_limits<float>::quiet_NaN(), -3.0f, -kInf, -2.0f};
  CHECK(vec::max(4, x.data()) == -2.0f);
  std::vector<float> all_neg_inf(20, -kInf);
  CHECK(vec::max(20, all_neg_inf.data()) == -kInf);
}

TEST_CASE("vec::sum_exp and vec::exp_scale match double references", "[kernels][vec]") {
  for (int64_t n : {1, 17, 1023, 1024, 1025, 50257}) {
    auto x = uniform(static_cast<size_t>(n), -30.0f, 10.0f, 11);
    const float shift = 10.0f;
    double exact = 0;
    for (float v : x) exact += std::exp(static_cast<double>(v) - shift);
    std::vector<float> y(x.size());
    const double s = vec::sum_exp(n, x.data(), shift, y.data());
    // each term within 2 ulp (relative 2.4e-7) of its exact value, summed in double
    CHECK(std::abs(s - exact) <= 2.4e-7 * exact);
    CHECK(vec::sum_exp(n, x.data(), shift, nullptr) == s);  // same lanes, same order
    double worst = 0;
    for (size_t i = 0; i < x.size(); ++i)
      worst = std::max(worst, ulps(y[i], std::exp(static_cast<double>(x[i] - shift))));
    CHECK(worst <= 2.0);
    std::vector<float> z(x.size());
    vec::exp_scale(n, x.data(), shift, 0.25f, z.data());  // scaling by a power of two is exact
    for (size_t i = 0; i < x.size(); ++i) REQUIRE(z[i] == y[i] * 0.25f);
  }
  std::vector<float> nan_row = {0.0f, std::numeric_limits<float>::quiet_NaN()};
  CHECK(std::isnan(vec::sum_exp(2, nan_row.data(), 0.0f, nullptr)));
}

TEST_CASE("vec::gelu and vec::gelu_backward match the scalar reference in float64", "[kernels][vec]") {
  auto x = uniform(20011, -12.0f, 12.0f, 3);
  x.insert(x.end(), {0.0f, -0.0f, 1e-7f, -1e-7f, 40.0f, -40.0f, kInf, -kInf});
  const auto n = static_cast<int64_t>(x.size());
  std::vector<float> y(x.size()), gy(x.size(), 1.0f), gx(x.size());
  vec::gelu(n, x.data(), y.data());
  vec::gelu_backward(n, x.data(), gy.data(), gx.data());
  // tanh(u) = 1 - 2 / (exp(2u) + 1) carries an absolute error of a few float ulps of 1 (~4e-7);
  // 0.5 x (1 + t) turns that into ~2e-7 |x| absolute, plus the float rounding of the product.
  for (size_t i = 0; i + 2 < x.size(); ++i) {
    const double xi = x[i];
    const double tol = 1e-6 * std::max(1.0, std::abs(xi));
    INFO("x = " << xi);
    REQUIRE(std::abs(y[i] - gelu_ref(xi)) <= tol);
    REQUIRE(std::abs(gx[i] - gelu_grad_ref(xi)) <= tol);
  }
  CHECK(y[n - 2] == kInf);  // gelu(+inf) = +inf
}

TEST_CASE("vec::isa_name names one of the three variants", "[kernels][vec]") {
  const std::string isa = vec::isa_name();
  CHECK((isa == "avx512" || isa == "avx2" || isa == "baseline"));
  CHECK_FALSE(vec::use_isa_for_testing("sse9"));
  CHECK(vec::isa_name() == isa);
}

TEST_CASE("every instruction-set variant this CPU runs gives the same bits", "[kernels][vec]") {
  // vec_math.h promises identical results from each variant (no FMA contraction, fixed lane
  // order). Run each routine under every variant the CPU supports and compare bit for bit.
  const std::string original = vec::isa_name();
  auto x = uniform(5003, -30.0f, 30.0f, 17);
  x.insert(x.end(), {0.0f, -kInf, kInf, std::numeric_limits<float>::quiet_NaN(), -100.0f, 88.7f});
  const auto n = static_cast<int64_t>(x.size());
  struct Out {
    std::vector<float> e, s, g, gb;
    float m = 0;
    double sum = 0;
  };
  auto run = [&] {
    Out o;
    o.e.resize(x.size());
    o.s.resize(x.size());
    o.g.resize(x.size());
    o.gb.resize(x.size());
    vec::exp(n, x.data(), o.e.data());
    vec::exp_scale(n, x.data(), 1.5f, 0.3f, o.s.data());
    vec::gelu(n, x.data(), o.g.data());
    vec::gelu_backward(n, x.data(), x.data(), o.gb.data());
    o.m = vec::max(n, x.data());
    o.sum = vec::sum_exp(n - 6, x.data(), 30.0f, nullptr);  // finite part
    return o;
  };
  auto bits = [](const std::vector<float>& v) {
    std::vector<uint32_t> b(v.size());
    std::memcpy(b.data(), v.data(), v.size() * sizeof(float));
    return b;
  };
  REQUIRE(vec::use_isa_for_testing("baseline"));
  const Out ref = run();
  int compared = 0;
  for (const char* isa : {"avx2", "avx512"}) {
    if (!vec::use_isa_for_testing(isa)) {
      WARN("this CPU cannot run the " << isa << " variant: not compared");
      continue;
    }
    INFO("variant " << isa << " against baseline");
    const Out o = run();
    CHECK(bits(o.e) == bits(ref.e));
    CHECK(bits(o.s) == bits(ref.s));
    CHECK(bits(o.g) == bits(ref.g));
    CHECK(bits(o.gb) == bits(ref.gb));
    CHECK(o.m == ref.m);
    CHECK(o.sum == ref.sum);
    ++compared;
  }
  REQUIRE(vec::use_isa_for_testing(original.c_str()));
  CHECK(vec::isa_name() == original);
  INFO(compared << " variants compared with the baseline");
}
