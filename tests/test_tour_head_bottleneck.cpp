// The head-bottleneck tour (demos/tours/tour_head_bottleneck.cpp) against closed forms computed
// here: softmax - onehot by hand, the projection onto col(W) by the normal equations
// W (W^T W)^-1 W^T (not the QR the tour uses), and E[f^2] = 1 - D/V for isotropic rows.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <sstream>

#include "demos/tours/tour_head_bottleneck.h"
#include "tensor/ops.h"

using namespace gs;

namespace {

std::vector<double> softmax_minus_onehot(const std::vector<double>& W, int64_t V, const std::vector<double>& h,
                                         int64_t target) {
  std::vector<double> z(V, 0.0), g(V);
  double zmax = -1e300, s = 0;
  for (int64_t k = 0; k < V; ++k) {
    z[k] = W[k * 2] * h[0] + W[k * 2 + 1] * h[1];
    zmax = std::max(zmax, z[k]);
  }
  for (int64_t k = 0; k < V; ++k) s += std::exp(z[k] - zmax);
  for (int64_t k = 0; k < V; ++k) g[k] = std::exp(z[k] - zmax) / s - (k == target);
  return g;
}

// W (W^T W)^-1 W^T g for W [V, 2], the 2 x 2 inverse written out.
std::vector<double> project_d2(const std::vector<double>& W, int64_t V, const std::vector<double>& g) {
  double a = 0, b = 0, d = 0, u0 = 0, u1 = 0;  // W^T W = [[a, b], [b, d]], u = W^T g
  for (int64_t k = 0; k < V; ++k) {
    a += W[k * 2] * W[k * 2];
    b += W[k * 2] * W[k * 2 + 1];
    d += W[k * 2 + 1] * W[k * 2 + 1];
    u0 += W[k * 2] * g[k];
    u1 += W[k * 2 + 1] * g[k];
  }
  const double det = a * d - b * b, c0 = (d * u0 - b * u1) / det, c1 = (a * u1 - b * u0) / det;
  std::vector<double> p(V);
  for (int64_t k = 0; k < V; ++k) p[k] = W[k * 2] * c0 + W[k * 2 + 1] * c1;
  return p;
}

double count_of(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("tour_head_bottleneck: col(W) = span(e1, e2) destroys exactly components 3 and 4", "[tours]") {
  const std::vector<double> Wv = {2, 1, 0, 3, 0, 0, 0, 0};  // [4, 2], rows 3 and 4 zero
  const std::vector<double> h = {0.3, -0.7};
  std::ostringstream out;
  const auto s = tours::explain_token(out, from_vector(Wv, {4, 2}), from_vector(h, {2}), 3);
  const auto g = softmax_minus_onehot(Wv, 4, h, 3);
  REQUIRE(s.rank == 2);
  for (int k = 0; k < 4; ++k) {
    INFO("component " << k);
    CHECK(s.g[k] == Approx(g[k]).margin(1e-14));
    CHECK(s.visible[k] == Approx(k < 2 ? g[k] : 0.0).margin(1e-12));
    CHECK(s.destroyed[k] == Approx(k < 2 ? 0.0 : g[k]).margin(1e-12));
  }
  CHECK(s.destroyed_norm == Approx(std::hypot(g[2], g[3])).epsilon(1e-12));
  // what reaches h: W^T g = (2 g1, g1 + 3 g2); the destroyed part contributes nothing
  CHECK(s.hidden_grad[0] == Approx(2 * g[0]).margin(1e-14));
  CHECK(s.hidden_grad[1] == Approx(g[0] + 3 * g[1]).margin(1e-14));
  for (int j = 0; j < 2; ++j) {
    CHECK(std::abs(s.hidden_from_destroyed[j]) < 1e-12);
    CHECK(s.hidden_from_visible[j] == Approx(s.hidden_grad[j]).margin(1e-12));
  }
  const std::string text = out.str();
  CHECK(text.find("W^T destroyed = [0.000000, 0.000000]") != std::string::npos);
}

TEST_CASE("tour_head_bottleneck: default run, part 1 against the normal-equation projection", "[tours]") {
  std::ostringstream out;
  const auto r = tours::tour_head_bottleneck(out);
  const std::string text = out.str();
  REQUIRE(r.failures == 0);
  CHECK(count_of(text, "FAILED") == 0);
  CHECK(count_of(text, ": ok\n") == 5);  // four checks in part 1, one in part 2
  CHECK(text.find("all checks passed") != std::string::npos);

  const auto& s = r.token;
  REQUIRE(s.V == 5);
  REQUIRE(s.D == 2);
  const auto g = softmax_minus_onehot(s.W, s.V, s.h, 2);
  const auto vis = project_d2(s.W, s.V, g);
  double gg = 0, dd = 0;
  for (int64_t k = 0; k < s.V; ++k) {
    CHECK(s.g[k] == Approx(g[k]).margin(1e-14));
    CHECK(s.visible[k] == Approx(vis[k]).margin(1e-12));
    CHECK(s.destroyed[k] == Approx(g[k] - vis[k]).margin(1e-12));
    gg += g[k] * g[k];
    dd += (g[k] - vis[k]) * (g[k] - vis[k]);
  }
  CHECK(s.visible_norm * s.visible_norm + s.destroyed_norm * s.destroyed_norm == Approx(gg).epsilon(1e-12));
  char line[64];
  std::snprintf(line, sizeof line, "destroyed fraction ||destroyed|| / ||g|| = %.4f", std::sqrt(dd / gg));
  CHECK(text.find(line) != std::string::npos);
  CHECK(text.find("W^T destroyed = [0.000000, 0.000000]") != std::string::npos);

  // part 2: the formula column is sqrt(1 - D/V); isotropic rows follow it (f^2 ~ Beta((V-D)/2, D/2),
  // so the rms over 512 rows is within a few percent at every V > 2D)
  const tours::HeadTourOptions o;
  REQUIRE(r.grow.size() == o.grow_V.size());
  for (const auto& row : r.grow) {
    INFO("V = " << row.V);
    const double expect = row.V > o.D ? std::sqrt(1.0 - double(o.D) / double(row.V)) : 0.0;
    CHECK(row.formula == Approx(expect).epsilon(1e-15));
    CHECK(row.isotropic_rms == Approx(expect).margin(0.06));
    CHECK(row.softmax_rms >= 0);
    CHECK(row.softmax_rms <= 1 + 1e-12);
  }
  CHECK(r.grow.back().softmax_rms > 0.99);  // V = 512, D = 2: nearly all of g is destroyed

  // part 3: SGD lowers the loss; every fraction is a fraction
  REQUIRE(r.train.size() == size_t(o.train_steps / o.train_every + 1));
  CHECK(r.train.back().loss < 0.5 * r.train.front().loss);
  for (const auto& t : r.train) {
    CHECK(t.destroyed_fraction >= 0);
    CHECK(t.destroyed_fraction <= 1 + 1e-12);
  }
}

TEST_CASE("tour_head_bottleneck: isotropic rows lose 1 - D/V of their squared norm", "[tours]") {
  // Rows drawn here (std::mt19937): the mean of f^2 estimates 1 - D/V with standard error
  // sqrt((1-p) p / (V/2 + 1) / N), p = D/V; 5 standard errors is the tolerance.
  std::mt19937 rng(7);
  std::normal_distribution<double> n01;
  const int64_t N = 400;
  for (int64_t V : {8, 32, 128}) {
    for (int64_t D : {2, 4}) {
      std::vector<double> W(V * D), G(N * V);
      for (auto& x : W) x = n01(rng);
      for (auto& x : G) x = n01(rng);
      const auto f2 = tours::destroyed_fractions_sq(from_vector(G, {N, V}), from_vector(W, {V, D}));
      REQUIRE(f2.size() == size_t(N));
      double mean = 0;
      for (double f : f2) mean += f / N;
      const double p = double(D) / double(V);
      const double se = std::sqrt((1 - p) * p / (V / 2.0 + 1) / N);
      INFO("V = " << V << ", D = " << D << ", mean f^2 = " << mean << ", se = " << se);
      CHECK(std::abs(mean - (1 - p)) < 5 * se);
    }
  }
}
