// ops_cpu/reduce: sum_rows, sum_middle, max_rows against plain loops written here.
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "ops_cpu/reduce.h"
#include "ops_cpu/threads.h"

using namespace gs::cpu;

namespace {

template <class T>
std::vector<T> random_vec(int64_t n, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& e : v) e = static_cast<T>(d(rng));
  return v;
}

// Reference row sums in long double, the most accurate type available here.
template <class T>
std::vector<long double> ref_sum_rows(int64_t outer, int64_t inner, const std::vector<T>& x) {
  std::vector<long double> y(static_cast<size_t>(outer), 0.0L);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) y[o] += x[o * inner + i];
  return y;
}

}  // namespace

TEMPLATE_TEST_CASE("sum_rows matches a long-double reference", "[ops_cpu][reduce][h1-reduce]",
                   float, double) {
  using T = TestType;
  // (outer, inner): tiny, many short rows (row-parallel path), one long row and a few long rows
  // (chunked path; 100,003 is not a multiple of the chunk), an empty reduction.
  const std::vector<std::pair<int64_t, int64_t>> shapes = {
      {3, 5}, {1000, 70}, {1, 100003}, {3, 50001}, {4, 0}};
  for (auto [outer, inner] : shapes) {
    CAPTURE(outer, inner);
    auto x = random_vec<T>(outer * inner, 11 + outer);
    std::vector<T> y(static_cast<size_t>(outer), T(-7));
    sum_rows(outer, inner, x.data(), y.data());
    auto ref = ref_sum_rows(outer, inner, x);
    for (int64_t o = 0; o < outer; ++o) {
      long double abs_sum = 0;
      for (int64_t i = 0; i < inner; ++i)
        abs_sum += std::abs(static_cast<long double>(x[o * inner + i]));
      // Rigorous bound: the double accumulation errs by at most (inner - 1) * 2^-53 * sum|x|
      // (Higham, recursive summation), and a float result adds one final rounding, 2^-24 |sum|.
      // Dropping or double-counting any element (|x| ~ 0.5) would exceed this by far.
      const double round_out = std::is_same_v<T, float> ? 0x1p-24 * std::abs((double)ref[o]) : 0.0;
      const double tol = round_out + 0x1p-53 * inner * (double)abs_sum + 1e-300;
      REQUIRE(std::abs(static_cast<double>(y[o]) - static_cast<double>(ref[o])) <= tol);
    }
  }
}

TEST_CASE("sum_rows accumulates float in double", "[ops_cpu][reduce][h1-reduce]") {
  // 1e8 followed by 3 * 2^22 - 1 ones. Float spacing at 1e8 is 8, so a float accumulator
  // would drop every 1.0f and return 1e8; a double accumulator is exact and the one final
  // rounding to float gives float(1e8 + n - 1).
  const int64_t n = 3 << 22;
  std::vector<float> x(static_cast<size_t>(n), 1.0f);
  x[0] = 1e8f;  // exactly representable
  float y = 0;
  sum_rows<float>(1, n, x.data(), &y);
  REQUIRE(y == static_cast<float>(1e8 + (n - 1)));
}

TEST_CASE("sum_rows is bitwise reproducible across thread counts", "[ops_cpu][reduce][h1-reduce]") {
  auto x = random_vec<float>(2 * 200001, 5, -1e3, 1e3);
  const int saved = num_threads();
  std::vector<float> y1(2), y2(2);
  set_num_threads(1);
  sum_rows<float>(2, 200001, x.data(), y1.data());
  set_num_threads(2);
  sum_rows<float>(2, 200001, x.data(), y2.data());
  set_num_threads(saved);
  REQUIRE(y1 == y2);
}

TEST_CASE("sum_rows on int64 is exact", "[ops_cpu][reduce][h1-reduce]") {
  std::vector<int64_t> x = {1, 2, 3, -4, int64_t(1) << 40, 5};
  std::vector<int64_t> y(2);
  sum_rows<int64_t>(2, 3, x.data(), y.data());
  REQUIRE(y[0] == 6);
  REQUIRE(y[1] == (int64_t(1) << 40) + 1);
}

TEMPLATE_TEST_CASE("sum_middle matches a triple loop", "[ops_cpu][reduce][h1-reduce]", float,
                   double, int64_t) {
  using T = TestType;
  // inner 300 crosses the kernel's 256-column block; mid 0 must give zeros.
  const std::vector<std::array<int64_t, 3>> shapes = {{2, 3, 4}, {3, 50, 300}, {1, 1000, 7},
                                                      {5, 1, 9}, {2, 0, 3},    {40, 30, 40}};
  for (auto [outer, mid, inner] : shapes) {
    CAPTURE(outer, mid, inner);
    std::vector<T> x(static_cast<size_t>(outer * mid * inner));
    std::mt19937_64 rng(outer * 100 + mid);
    for (auto& e : x) e = static_cast<T>(static_cast<int64_t>(rng() % 2001) - 1000) / T(8);
    std::vector<T> y(static_cast<size_t>(outer * inner), T(99));
    sum_middle(outer, mid, inner, x.data(), y.data());
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        long double r = 0;
        for (int64_t m = 0; m < mid; ++m) r += x[(o * mid + m) * inner + i];
        // inputs are multiples of 1/8 below 2^7 and the sums stay well inside double's exact
        // range, so the double accumulator is exact; float rounding happens once at the end.
        REQUIRE(y[o * inner + i] == static_cast<T>(r));
      }
  }
}

TEMPLATE_TEST_CASE("max_rows gives the max and the first argmax", "[ops_cpu][reduce][h1-reduce]",
                   float, double, int64_t) {
  using T = TestType;
  // row 0: tie between positions 1 and 3 -> 1; row 1: max at the end; row 2: single negative
  // max at 0; all exact values, so comparisons are exact.
  std::vector<T> x = {T(1),  T(5),  T(-2), T(5),  //
                      T(0),  T(0),  T(0),  T(3),  //
                      T(-1), T(-9), T(-3), T(-2)};
  std::vector<T> y(3);
  std::vector<int64_t> idx(3, -1);
  max_rows<T>(3, 4, x.data(), y.data(), idx.data());
  REQUIRE(y == std::vector<T>{T(5), T(3), T(-1)});
  REQUIRE(idx == std::vector<int64_t>{1, 3, 0});
  std::vector<T> y2(3);
  max_rows<T>(3, 4, x.data(), y2.data(), nullptr);  // idx optional
  REQUIRE(y2 == y);
}

TEMPLATE_TEST_CASE("max_rows on random data agrees with a scan", "[ops_cpu][reduce][h1-reduce]",
                   float, double) {
  using T = TestType;
  const int64_t outer = 300, inner = 257;  // outer * inner > parallel grain
  auto x = random_vec<T>(outer * inner, 3, -50, 50);
  std::vector<T> y(outer);
  std::vector<int64_t> idx(outer);
  max_rows(outer, inner, x.data(), y.data(), idx.data());
  for (int64_t o = 0; o < outer; ++o) {
    int64_t a = 0;
    for (int64_t i = 1; i < inner; ++i)
      if (x[o * inner + i] > x[o * inner + a]) a = i;
    REQUIRE(idx[o] == a);
    REQUIRE(y[o] == x[o * inner + a]);
  }
}

TEMPLATE_TEST_CASE("max_rows propagates NaN and handles -inf", "[ops_cpu][reduce][h1-reduce]",
                   float, double) {
  using T = TestType;
  const T nan = std::numeric_limits<T>::quiet_NaN(), inf = std::numeric_limits<T>::infinity();
  std::vector<T> x = {T(1), nan,      T(7), nan,   // NaN in the middle: result NaN at index 1
                      nan,  T(1),     T(2), T(3),  // NaN first
                      -inf, -inf,     -inf, -inf,  // all -inf: max -inf, argmax 0
                      -inf, T(-1e30), inf,  T(2)};
  std::vector<T> y(4);
  std::vector<int64_t> idx(4);
  max_rows<T>(4, 4, x.data(), y.data(), idx.data());
  REQUIRE(std::isnan(y[0]));
  REQUIRE(idx[0] == 1);
  REQUIRE(std::isnan(y[1]));
  REQUIRE(idx[1] == 0);
  REQUIRE(y[2] == -inf);
  REQUIRE(idx[2] == 0);
  REQUIRE(y[3] == inf);
  REQUIRE(idx[3] == 2);
}
