#include "ops_cpu/norm.h"

#include <cmath>
#include <vector>

#include "ops_cpu/threads.h"

namespace gs::cpu {

namespace {

// Column sums over rows for the parameter gradients: out_a[j] = sum_r a(r, j), out_b likewise.
// Columns are split into fixed blocks and each block walks the rows in order, so every sum has
// the same order whatever the thread count. Accumulates in double.
constexpr int64_t kColBlock = 64;

template <class T, class FA>
void column_sums(int64_t rows, int64_t D, FA&& term, T* out_a, const T* gy, T* out_b) {
  const int64_t nblocks = (D + kColBlock - 1) / kColBlock;
#pragma omp parallel for if (rows * D > kParallelGrain)
  for (int64_t b = 0; b < nblocks; ++b) {
    const int64_t j0 = b * kColBlock, j1 = j0 + kColBlock < D ? j0 + kColBlock : D;
    double acc_a[kColBlock] = {0}, acc_b[kColBlock] = {0};
    for (int64_t r = 0; r < rows; ++r) {
      const T* g = gy + r * D;
      if (out_a)
        for (int64_t j = j0; j < j1; ++j) acc_a[j - j0] += term(r, j);
      if (out_b)
        for (int64_t j = j0; j < j1; ++j) acc_b[j - j0] += static_cast<double>(g[j]);
    }
    if (out_a)
      for (int64_t j = j0; j < j1; ++j) out_a[j] = static_cast<T>(acc_a[j - j0]);
    if (out_b)
      for (int64_t j = j0; j < j1; ++j) out_b[j] = static_cast<T>(acc_b[j - j0]);
  }
}

// sum_{j < n} f(j) in double through 8 interleaved accumulators: eight independent add chains
// (which the compiler can also put in vector lanes) instead of one serial chain whose latency
// bounded these kernels. The order is fixed, so the result never depends on the thread count.
template <class F>
double lane_sum(int64_t n, F&& f) {
  constexpr int kL = 8;
  double acc[kL] = {0};
  int64_t j = 0;
  for (; j + kL <= n; j += kL)
    for (int k = 0; k < kL; ++k) acc[k] += f(j + k);
  for (int k = 0; j < n; ++j, ++k) acc[k] += f(j);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

}  // namespace

template <class T>
void layer_norm_forward(int64_t rows, int64_t D, const T* x, const T* gamma, const T* beta, T eps,
                        T* y, T* mean, T* rstd) {
#pragma omp parallel for if (rows * D > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * D;
    T* yr = y + r * D;
    const double s = lane_sum(D, [&](int64_t j) { return static_cast<double>(xr[j]); });
    const double m = D > 0 ? s / static_cast<double>(D) : 0.0;
    // two-pass variance: no cancellation for large means
    double v = lane_sum(D, [&](int64_t j) {
      const double d = xr[j] - m;
      return d * d;
    });
    v = D > 0 ? v / static_cast<double>(D) : 0.0;
    const double rs = 1.0 / std::sqrt(v + static_cast<double>(eps));
    mean[r] = static_cast<T>(m);
    rstd[r] = static_cast<T>(rs);
    for (int64_t j = 0; j < D; ++j) {
      double h = (xr[j] - m) * rs;
      if (gamma) h *= gamma[j];
      if (beta) h += beta[j];
      yr[j] = static_cast<T>(h);
    }
  }
}

template <class T>
void layer_norm_backward(int64_t rows, int64_t D, const T* gy, const T* x, const T* mean,
                         const T* rstd, const T* gamma, T* gx, T* ggamma, T* gbeta) {
  const double invD = D > 0 ? 1.0 / static_cast<double>(D) : 0.0;
#pragma omp parallel for if (rows * D > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * D;
    const T* gr = gy + r * D;
    T* out = gx + r * D;
    const double m = mean[r], rs = rstd[r];
    auto g_of = [&](int64_t j) {
      return gamma ? static_cast<double>(gr[j]) * gamma[j] : static_cast<double>(gr[j]);
    };
    const double sg = lane_sum(D, g_of);
    const double sgx = lane_sum(D, [&](int64_t j) { return g_of(j) * (xr[j] - m) * rs; });
    const double mg = sg * invD, mgx = sgx * invD;
    for (int64_t j = 0; j < D; ++j) {
      const double g = gamma ? static_cast<double>(gr[j]) * gamma[j] : static_cast<double>(gr[j]);
      const double xh = (xr[j] - m) * rs;
      out[j] = static_cast<T>(rs * (g - mg - xh * mgx));
    }
  }
  if (ggamma || gbeta) {
    auto term = [&](int64_t r, int64_t j) {
      return static_cast<double>(gy[r * D + j]) * ((x[r * D + j] - static_cast<double>(mean[r])) * rstd[r]);
    };
    column_sums(rows, D, term, ggamma, gy, gbeta);
  }
}

template <class T>
void rms_norm_forward(int64_t rows, int64_t D, const T* x, const T* gamma, T eps, T* y, T* rstd) {
#pragma omp parallel for if (rows * D > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * D;
    T* yr = y + r * D;
    const double ss = lane_sum(D, [&](int64_t j) { return static_cast<double>(xr[j]) * xr[j]; });
    const double ms = D > 0 ? ss / static_cast<double>(D) : 0.0;
    const double rs = 1.0 / std::sqrt(ms + static_cast<double>(eps));
    rstd[r] = static_cast<T>(rs);
    for (int64_t j = 0; j < D; ++j) {
      double h = xr[j] * rs;
      if (gamma) h *= gamma[j];
      yr[j] = static_cast<T>(h);
    }
  }
}

template <class T>
void rms_norm_backward(int64_t rows, int64_t D, const T* gy, const T* x, const T* rstd,
                       const T* gamma, T* gx, T* ggamma) {
  const double invD = D > 0 ? 1.0 / static_cast<double>(D) : 0.0;
#pragma omp parallel for if (rows * D > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * D;
    const T* gr = gy + r * D;
    T* out = gx + r * D;
    const double rs = rstd[r];
    const double sgx = lane_sum(D, [&](int64_t j) {
      const double g = gamma ? static_cast<double>(gr[j]) * gamma[j] : static_cast<double>(gr[j]);
      return g * xr[j] * rs;
    });
    const double mgx = sgx * invD;
    for (int64_t j = 0; j < D; ++j) {
      const double g = gamma ? static_cast<double>(gr[j]) * gamma[j] : static_cast<double>(gr[j]);
      out[j] = static_cast<T>(rs * (g - xr[j] * rs * mgx));
    }
  }
  if (ggamma) {
    auto term = [&](int64_t r, int64_t j) {
      return static_cast<double>(gy[r * D + j]) * (static_cast<double>(x[r * D + j]) * rstd[r]);
    };
    column_sums(rows, D, term, ggamma, gy, static_cast<T*>(nullptr));
  }
}

GS_NORM_INSTANTIATE

}  // namespace gs::cpu
