// ops_cpu/norm: layer_norm and rms_norm kernels against double references written here, and
// the backward kernels against central finite differences of L = sum(gy * y).
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "ops_cpu/norm.h"
#include "ops_cpu/threads.h"

namespace {

using Vec = std::vector<double>;

Vec randv(size_t n, unsigned seed, double lo = -2.0, double hi = 2.0) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  Vec v(n);
  for (auto& e : v) e = u(gen);
  return v;
}

template <class T>
std::vector<T> cast(const Vec& v) {
  return std::vector<T>(v.begin(), v.end());
}

double max_abs_diff(const Vec& a, const Vec& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

template <class T>
Vec to_d(const std::vector<T>& v) {
  return Vec(v.begin(), v.end());
}

// Straightforward references (double): gamma/beta empty = none; rms when rms == true.
Vec ref_norm(bool rms, int64_t rows, int64_t D, const Vec& x, const Vec& gamma, const Vec& beta,
             double eps) {
  Vec y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double m = 0, v = 0;
    if (!rms) {
      for (int64_t j = 0; j < D; ++j) m += x[r * D + j];
      m /= D;
    }
    for (int64_t j = 0; j < D; ++j) v += (x[r * D + j] - m) * (x[r * D + j] - m);
    v /= D;
    for (int64_t j = 0; j < D; ++j) {
      double h = (x[r * D + j] - m) / std::sqrt(v + eps);
      if (!gamma.empty()) h *= gamma[j];
      if (!beta.empty()) h += beta[j];
      y[r * D + j] = h;
    }
  }
  return y;
}

double loss(bool rms, int64_t rows, int64_t D, const Vec& gy, const Vec& x, const Vec& gamma,
            const Vec& beta, double eps) {
  Vec y = ref_norm(rms, rows, D, x, gamma, beta, eps);
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += gy[i] * y[i];
  return s;
}

// d loss / d v[i] by central differences, where v is one of x, gamma, beta (selected by which).
Vec finite_diff(bool rms, int64_t rows, int64_t D, const Vec& gy, Vec x, Vec gamma, Vec beta,
                double eps, int which) {
  Vec& v = which == 0 ? x : which == 1 ? gamma : beta;
  Vec out(v.size());
  const double h = 1e-6;
  for (size_t i = 0; i < v.size(); ++i) {
    const double old = v[i];
    v[i] = old + h;
    const double lp = loss(rms, rows, D, gy, x, gamma, beta, eps);
    v[i] = old - h;
    const double lm = loss(rms, rows, D, gy, x, gamma, beta, eps);
    v[i] = old;
    out[i] = (lp - lm) / (2 * h);
  }
  return out;
}

}  // namespace

TEST_CASE("layer_norm_forward matches the reference, with and without gamma/beta", "[ops_cpu][norm]") {
  const int64_t rows = 7, D = 13;
  const double eps = 1e-5;
  Vec x = randv(rows * D, 1), gamma = randv(D, 2), beta = randv(D, 3);
  for (int mode = 0; mode < 3; ++mode) {
    Vec g = mode == 0 ? Vec{} : gamma, b = mode == 2 ? beta : Vec{};
    Vec ref = ref_norm(false, rows, D, x, g, b, eps);
    Vec y(rows * D), mean(rows), rstd(rows);
    gs::cpu::layer_norm_forward<double>(rows, D, x.data(), g.empty() ? nullptr : g.data(),
                                        b.empty() ? nullptr : b.data(), eps, y.data(), mean.data(),
                                        rstd.data());
    // double vs double reference: only rounding differences of a few ops on O(1) values.
    CHECK(max_abs_diff(y, ref) < 1e-12);
    for (int64_t r = 0; r < rows; ++r) {
      double m = 0;
      for (int64_t j = 0; j < D; ++j) m += x[r * D + j];
      CHECK(std::abs(mean[r] - m / D) < 1e-13);
    }
    auto xf = cast<float>(x), gf = cast<float>(g), bf = cast<float>(b);
    std::vector<float> yf(rows * D), mf(rows), rf(rows);
    gs::cpu::layer_norm_forward<float>(rows, D, xf.data(), gf.empty() ? nullptr : gf.data(),
                                       bf.empty() ? nullptr : bf.data(), 1e-5f, yf.data(), mf.data(),
                                       rf.data());
    // float: inputs rounded to float (rel 6e-8) and outputs O(1..5); 1e-5 leaves ample margin.
    CHECK(max_abs_diff(to_d(yf), ref) < 1e-5);
  }
}

TEST_CASE("layer_norm_forward float keeps accuracy for a large mean (stats in double)", "[ops_cpu][norm]") {
  const int64_t rows = 3, D = 256;
  Vec x = randv(rows * D, 4);
  for (auto& e : x) e = 1e4 + e;  // mean 1e4, spread ~1: single-pass float variance would cancel
  auto xf = cast<float>(x);
  Vec xr = to_d(xf);  // reference on exactly the float inputs
  Vec ref = ref_norm(false, rows, D, xr, {}, {}, 1e-5);
  std::vector<float> y(rows * D), m(rows), rs(rows);
  gs::cpu::layer_norm_forward<float>(rows, D, xf.data(), nullptr, nullptr, 1e-5f, y.data(), m.data(),
                                     rs.data());
  // Only the final rounding of y (|y| < 2) and of the stored mean/rstd: a few float ulps.
  CHECK(max_abs_diff(to_d(y), ref) < 1e-5);
}

TEST_CASE("layer_norm_backward matches finite differences (double)", "[ops_cpu][norm]") {
  const int64_t rows = 5, D = 9;
  const double eps = 1e-5;
  Vec x = randv(rows * D, 5), gamma = randv(D, 6), beta = randv(D, 7), gy = randv(rows * D, 8);
  for (int with_gamma = 0; with_gamma < 2; ++with_gamma) {
    Vec g = with_gamma ? gamma : Vec{};
    Vec y(rows * D), mean(rows), rstd(rows);
    gs::cpu::layer_norm_forward<double>(rows, D, x.data(), g.empty() ? nullptr : g.data(), beta.data(),
                                        eps, y.data(), mean.data(), rstd.data());
    Vec gx(rows * D), ggamma(D, 123.0), gbeta(D, 123.0);  // 123: checks "written, not accumulated"
    gs::cpu::layer_norm_backward<double>(rows, D, gy.data(), x.data(), mean.data(), rstd.data(),
                                         g.empty() ? nullptr : g.data(), gx.data(), ggamma.data(),
                                         gbeta.data());
    // Central differences with h = 1e-6: truncation ~h^2 * |f'''| ~ 1e-11, rounding ~1e-16/h
    // times |L| ~ 1e-9; 1e-6 is far above both and far below any real error (O(0.1..1)).
    CHECK(max_abs_diff(gx, finite_diff(false, rows, D, gy, x, g, beta, eps, 0)) < 1e-6);
    if (with_gamma) CHECK(max_abs_diff(ggamma, finite_diff(false, rows, D, gy, x, g, beta, eps, 1)) < 1e-6);
    CHECK(max_abs_diff(gbeta, finite_diff(false, rows, D, gy, x, g, beta, eps, 2)) < 1e-6);
    // nullptr parameter gradients are skipped without touching anything else.
    Vec gx2(rows * D);
    gs::cpu::layer_norm_backward<double>(rows, D, gy.data(), x.data(), mean.data(), rstd.data(),
                                         g.empty() ? nullptr : g.data(), gx2.data(), nullptr, nullptr);
    CHECK(gx2 == gx);
  }
}

TEST_CASE("layer_norm_backward float agrees with double", "[ops_cpu][norm]") {
  const int64_t rows = 6, D = 70;  // D > one column block of the parameter-gradient sums
  Vec x = randv(rows * D, 9), gamma = randv(D, 10), gy = randv(rows * D, 11);
  Vec y(rows * D), mean(rows), rstd(rows), gx(rows * D), gg(D), gb(D);
  gs::cpu::layer_norm_forward<double>(rows, D, x.data(), gamma.data(), nullptr, 1e-5, y.data(),
                                      mean.data(), rstd.data());
  gs::cpu::layer_norm_backward<double>(rows, D, gy.data(), x.data(), mean.data(), rstd.data(),
                                       gamma.data(), gx.data(), gg.data(), gb.data());
  auto xf = cast<float>(x), gmf = cast<float>(gamma), gyf = cast<float>(gy);
  std::vector<float> yf(rows * D), mf(rows), rf(rows), gxf(rows * D), ggf(D), gbf(D);
  gs::cpu::layer_norm_forward<float>(rows, D, xf.data(), gmf.data(), nullptr, 1e-5f, yf.data(),
                                     mf.data(), rf.data());
  gs::cpu::layer_norm_backward<float>(rows, D, gyf.data(), xf.data(), mf.data(), rf.data(), gmf.data(),
                                      gxf.data(), ggf.data(), gbf.data());
  // float input rounding (6e-8 relative) propagated through O(D) terms of size O(4): 1e-4.
  CHECK(max_abs_diff(to_d(gxf), gx) < 1e-4);
  CHECK(max_abs_diff(to_d(ggf), gg) < 1e-4);
  CHECK(max_abs_diff(to_d(gbf), gb) < 1e-4);
}

TEST_CASE("rms_norm_forward matches the reference", "[ops_cpu][norm]") {
  const int64_t rows = 4, D = 11;
  const double eps = 1e-6;
  Vec x = randv(rows * D, 12), gamma = randv(D, 13);
  for (int with_gamma = 0; with_gamma < 2; ++with_gamma) {
    Vec g = with_gamma ? gamma : Vec{};
    Vec ref = ref_norm(true, rows, D, x, g, {}, eps);
    Vec y(rows * D), rstd(rows);
    gs::cpu::rms_norm_forward<double>(rows, D, x.data(), g.empty() ? nullptr : g.data(), eps, y.data(),
                                      rstd.data());
    CHECK(max_abs_diff(y, ref) < 1e-12);  // same arithmetic, rounding only
    auto xf = cast<float>(x), gf = cast<float>(g);
    std::vector<float> yf(rows * D), rf(rows);
    gs::cpu::rms_norm_forward<float>(rows, D, xf.data(), gf.empty() ? nullptr : gf.data(), 1e-6f,
                                     yf.data(), rf.data());
    CHECK(max_abs_diff(to_d(yf), ref) < 1e-5);  // float rounding of O(1..5) values
  }
}

TEST_CASE("rms_norm_backward matches finite differences (double)", "[ops_cpu][norm]") {
  const int64_t rows = 5, D = 8;
  const double eps = 1e-6;
  Vec x = randv(rows * D, 14), gamma = randv(D, 15), gy = randv(rows * D, 16);
  for (int with_gamma = 0; with_gamma < 2; ++with_gamma) {
    Vec g = with_gamma ? gamma : Vec{};
    Vec y(rows * D), rstd(rows), gx(rows * D), gg(D, 123.0);
    gs::cpu::rms_norm_forward<double>(rows, D, x.data(), g.empty() ? nullptr : g.data(), eps, y.data(),
                                      rstd.data());
    gs::cpu::rms_norm_backward<double>(rows, D, gy.data(), x.data(), rstd.data(),
                                       g.empty() ? nullptr : g.data(), gx.data(), gg.data());
    // Same finite-difference error budget as the layer_norm case.
    CHECK(max_abs_diff(gx, finite_diff(true, rows, D, gy, x, g, {}, eps, 0)) < 1e-6);
    if (with_gamma) CHECK(max_abs_diff(gg, finite_diff(true, rows, D, gy, x, g, {}, eps, 1)) < 1e-6);
  }
}

TEST_CASE("norm backward kernels give bitwise the same result on 1 and 2 threads", "[ops_cpu][norm]") {
  const int64_t rows = 300, D = 130;  // rows * D > kParallelGrain: the parallel paths run
  REQUIRE(rows * D > gs::cpu::kParallelGrain);
  auto xf = cast<float>(randv(rows * D, 17)), gyf = cast<float>(randv(rows * D, 18));
  auto gmf = cast<float>(randv(D, 19));
  std::vector<float> y(rows * D), m(rows), rs(rows);
  gs::cpu::layer_norm_forward<float>(rows, D, xf.data(), gmf.data(), nullptr, 1e-5f, y.data(), m.data(),
                                     rs.data());
  const int saved = gs::cpu::num_threads();
  std::vector<float> out[2][3];
  for (int t = 0; t < 2; ++t) {
    gs::cpu::set_num_threads(t + 1);
    out[t][0].resize(rows * D);
    out[t][1].resize(D);
    out[t][2].resize(D);
    gs::cpu::layer_norm_backward<float>(rows, D, gyf.data(), xf.data(), m.data(), rs.data(), gmf.data(),
                                        out[t][0].data(), out[t][1].data(), out[t][2].data());
  }
  gs::cpu::set_num_threads(saved);
  CHECK(out[0][0] == out[1][0]);
  CHECK(out[0][1] == out[1][1]);
  CHECK(out[0][2] == out[1][2]);
}
