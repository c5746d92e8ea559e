// ops_cpu/gemm on each CPU backend this build has (OpenBLAS; oneDNN when compiled in): gemm and
// gemm_batched against a double-precision reference written here, over transpositions, padded
// leading dimensions, alpha/beta, empty and degenerate shapes, and broadcast batches.
//
// Tolerance: any summation order of K float products obeys |C - C_exact| <= gamma_{K+2} *
// (|alpha| |op(A)| |op(B)| + |beta| |C0|) elementwise, gamma_n = n u / (1 - n u), u = 2^-24
// (Higham, "Accuracy and Stability of Numerical Algorithms", 3.5); the +2 covers the alpha and
// beta roundings. A swapped transposition or a wrong leading dimension is off by O(1), far above it.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "ops_cpu/gemm.h"
#include "ops_cpu/gemm_backend.h"

namespace {

using gs::cpu::GemmBackend;

std::vector<GemmBackend> backends() {
  std::vector<GemmBackend> b{GemmBackend::openblas};
  if (gs::cpu::onednn_available()) b.push_back(GemmBackend::onednn);
  return b;
}

// Restores the process's backend when a section ends, whatever it set.
struct BackendScope {
  GemmBackend saved = gs::cpu::gemm_backend();
  explicit BackendScope(GemmBackend b) { gs::cpu::set_gemm_backend(b); }
  ~BackendScope() { gs::cpu::set_gemm_backend(saved); }
};

template <class T>
std::vector<T> randv(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<T> v(n);
  for (auto& e : v) e = static_cast<T>(u(gen));
  return v;
}

struct Case {
  int64_t M, N, K;
};

// Checks C (ldc = N + 2, padding untouched) = alpha op(A) op(B) + beta C0 for one product.
template <class T>
void check_product(const T* A, int64_t lda, const T* B, int64_t ldb, const std::vector<T>& C0, const std::vector<T>& C,
                   bool ta, bool tb, Case c, T alpha, T beta) {
  const int64_t ldc = c.N + 2;
  const double u = std::ldexp(1.0, std::is_same_v<T, float> ? -24 : -53);
  const double gamma = (c.K + 2) * u / (1 - (c.K + 2) * u);
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < c.N + 2; ++j) {
      const double got = C[i * ldc + j];
      if (j >= c.N) {  // padding between rows: never written
        REQUIRE(got == static_cast<double>(C0[i * ldc + j]));
        continue;
      }
      double exact = 0, mag = 0;
      for (int64_t k = 0; k < c.K; ++k) {
        const double a = ta ? A[k * lda + i] : A[i * lda + k];
        const double b = tb ? B[j * ldb + k] : B[k * ldb + j];
        exact += a * b;
        mag += std::abs(a * b);
      }
      const double c0 = beta == T(0) ? 0.0 : static_cast<double>(C0[i * ldc + j]);
      exact = alpha * exact + beta * c0;
      mag = std::abs(alpha) * mag + std::abs(beta) * std::abs(c0);
      INFO("C[" << i << "," << j << "] = " << got << ", exact " << exact);
      REQUIRE(std::abs(got - exact) <= gamma * mag + std::numeric_limits<T>::min());
    }
}

template <class T>
void check_gemm_shapes(GemmBackend backend) {
  BackendScope scope(backend);
  // {64, 48, 1500}: long and thin, like a weight gradient over many tokens
  const Case cases[] = {{1, 1, 1},   {3, 5, 7}, {17, 9, 33}, {64, 48, 40}, {130, 70, 257},
                        {64, 48, 1500}, {0, 4, 3}, {4, 0, 3}, {5, 6, 0}};
  unsigned seed = 1;
  for (const Case c : cases)
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (T alpha : {T(1), T(-0.5)})
          for (T beta : {T(0), T(0.75)}) {
            INFO(gs::cpu::gemm_backend_name(backend) << " M=" << c.M << " N=" << c.N << " K=" << c.K << " ta=" << ta
                                                     << " tb=" << tb << " alpha=" << alpha << " beta=" << beta);
            // Leading dimensions padded by 3 so a kernel that assumes packed rows reads garbage.
            const int64_t lda = (ta ? c.M : c.K) + 3, ldb = (tb ? c.K : c.N) + 3, ldc = c.N + 2;
            const auto A = randv<T>(size_t((ta ? c.K : c.M) * lda), seed++);
            const auto B = randv<T>(size_t((tb ? c.N : c.K) * ldb), seed++);
            auto C0 = randv<T>(size_t(c.M * ldc), seed++);
            // beta == 0 means C's old contents are ignored, NaN included (matmul writes into
            // uninitialised memory this way).
            if (beta == T(0))
              for (int64_t i = 0; i < c.M; ++i)
                for (int64_t j = 0; j < c.N; ++j) C0[i * ldc + j] = std::numeric_limits<T>::quiet_NaN();
            auto C = C0;
            gs::cpu::gemm<T>(ta, tb, c.M, c.N, c.K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
            check_product<T>(A.data(), lda, B.data(), ldb, C0, C, ta, tb, c, alpha, beta);
          }
}

template <class T>
void check_batched(GemmBackend backend) {
  BackendScope scope(backend);
  const Case c{13, 11, 29};
  const int64_t batch = 5, lda = c.K, ldb = c.N, ldc = c.N + 2;
  for (const bool broadcast_a : {false, true}) {
    INFO(gs::cpu::gemm_backend_name(backend) << (broadcast_a ? ", A shared by the batch (stride 0)" : ""));
    const int64_t stride_a = broadcast_a ? 0 : c.M * lda, stride_b = c.K * ldb + 4, stride_c = c.M * ldc;
    const auto A = randv<T>(size_t(broadcast_a ? c.M * lda : batch * stride_a), 11);
    const auto B = randv<T>(size_t(batch * stride_b), 12);
    const auto C0 = randv<T>(size_t(batch * stride_c), 13);
    auto C = C0;
    gs::cpu::gemm_batched<T>(batch, false, false, c.M, c.N, c.K, T(1), A.data(), lda, stride_a, B.data(), ldb,
                             stride_b, T(0.5), C.data(), ldc, stride_c);
    for (int64_t b = 0; b < batch; ++b) {
      const std::vector<T> c0(C0.begin() + b * stride_c, C0.begin() + (b + 1) * stride_c);
      const std::vector<T> cb(C.begin() + b * stride_c, C.begin() + (b + 1) * stride_c);
      check_product<T>(A.data() + b * stride_a, lda, B.data() + b * stride_b, ldb, c0, cb, false, false, c, T(1),
                       T(0.5));
    }
  }
}

}  // namespace

TEST_CASE("gemm: every backend meets the float error bound over transpositions, padding, alpha and beta",
          "[kernels][gemm]") {
  for (const GemmBackend b : backends()) {
    check_gemm_shapes<float>(b);
    check_gemm_shapes<double>(b);  // float64 runs on OpenBLAS whatever the backend says
  }
}

TEST_CASE("gemm_batched: every backend, separate and broadcast operands", "[kernels][gemm]") {
  for (const GemmBackend b : backends()) {
    check_batched<float>(b);
    check_batched<double>(b);
  }
}

TEST_CASE("gemm backend: names, parsing and unavailable backends", "[kernels][gemm]") {
  CHECK(gs::cpu::parse_gemm_backend("openblas") == GemmBackend::openblas);
  CHECK(gs::cpu::parse_gemm_backend("onednn") == GemmBackend::onednn);
  CHECK(std::string(gs::cpu::gemm_backend_name(GemmBackend::onednn)) == "onednn");
  CHECK_THROWS_WITH(gs::cpu::parse_gemm_backend("mkl", "GRADSCOPE_GEMM"),
                    "GRADSCOPE_GEMM: 'mkl' is not a gemm backend (valid: openblas, onednn)");
  if (!gs::cpu::onednn_available()) {
    CHECK_THROWS_AS(gs::cpu::set_gemm_backend(GemmBackend::onednn), std::invalid_argument);
    CHECK(gs::cpu::gemm_backend() == GemmBackend::openblas);
  }
}
