// ops_cpu/embedding: gather against direct indexing; scatter-add backward against a reference
// loop and against finite differences of L = sum(g * out) with respect to the weight.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "ops_cpu/embedding.h"
#include "ops_cpu/threads.h"

namespace {

std::vector<double> rand_vec(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> v(n);
  for (auto& e : v) e = u(gen);
  return v;
}

std::vector<int64_t> rand_idx(size_t n, int64_t V, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int64_t> u(0, V - 1);
  std::vector<int64_t> v(n);
  for (auto& e : v) e = u(gen);
  return v;
}

}  // namespace

TEST_CASE("embedding_forward gathers rows", "[ops_cpu][embedding]") {
  const int64_t V = 10, D = 5;
  auto w = rand_vec(V * D, 1);
  std::vector<int64_t> idx = {3, 0, 9, 3, 7, 3};
  const int64_t n = static_cast<int64_t>(idx.size());
  std::vector<double> out(n * D);
  gs::cpu::embedding_forward<double>(n, V, D, w.data(), idx.data(), out.data());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < D; ++j) CHECK(out[i * D + j] == w[idx[i] * D + j]);  // exact copy
  std::vector<float> wf(w.begin(), w.end()), of(n * D);
  gs::cpu::embedding_forward<float>(n, V, D, wf.data(), idx.data(), of.data());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < D; ++j) CHECK(of[i * D + j] == wf[idx[i] * D + j]);
}

TEST_CASE("embedding_backward scatter-adds repeated indices and zeroes the rest", "[ops_cpu][embedding]") {
  const int64_t V = 8, D = 21;  // D spans two column blocks
  std::vector<int64_t> idx = {2, 5, 2, 2, 0, 5};
  const int64_t n = static_cast<int64_t>(idx.size());
  auto g = rand_vec(n * D, 2);
  std::vector<double> gw(V * D, 99.0);  // must be overwritten, not accumulated into
  gs::cpu::embedding_backward<double>(n, V, D, g.data(), idx.data(), gw.data());
  std::vector<double> ref(V * D, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < D; ++j) ref[idx[i] * D + j] += g[i * D + j];
  // Same additions in the same order (index order): bitwise equal.
  CHECK(gw == ref);

  // Finite differences of L(w) = sum_i sum_j g[i, j] * w[idx[i], j]. L is linear in w, so central
  // differences are exact up to rounding: (|L| ~ 5) * 1e-16 / h(1e-6) ~ 1e-9; tolerance 1e-7.
  auto w = rand_vec(V * D, 3);
  auto L = [&](const std::vector<double>& ww) {
    std::vector<double> out(n * D);
    gs::cpu::embedding_forward<double>(n, V, D, ww.data(), idx.data(), out.data());
    double s = 0;
    for (int64_t k = 0; k < n * D; ++k) s += g[k] * out[k];
    return s;
  };
  double worst = 0;
  for (int64_t k = 0; k < V * D; ++k) {
    auto wp = w, wm = w;
    wp[k] += 1e-6;
    wm[k] -= 1e-6;
    worst = std::max(worst, std::abs((L(wp) - L(wm)) / 2e-6 - gw[k]));
  }
  CHECK(worst < 1e-7);
}

TEST_CASE("embedding_backward is the same on 1 and 2 threads", "[ops_cpu][embedding]") {
  const int64_t V = 50, D = 64, n = 1000;  // n * D > kParallelGrain; many repeats per row
  REQUIRE(n * D > gs::cpu::kParallelGrain);
  auto idx = rand_idx(n, V, 4);
  auto gd = rand_vec(n * D, 5);
  std::vector<float> g(gd.begin(), gd.end());
  const int saved = gs::cpu::num_threads();
  std::vector<float> out[2];
  for (int t = 0; t < 2; ++t) {
    gs::cpu::set_num_threads(t + 1);
    out[t].assign(V * D, 0.f);
    gs::cpu::embedding_backward<float>(n, V, D, g.data(), idx.data(), out[t].data());
  }
  gs::cpu::set_num_threads(saved);
  CHECK(out[0] == out[1]);
  // and equal to a serial float reference in index order
  std::vector<float> ref(V * D, 0.f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < D; ++j) ref[idx[i] * D + j] += g[i * D + j];
  CHECK(out[0] == ref);
}
