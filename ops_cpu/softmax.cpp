#include "ops_cpu/softmax.h"

#include <cmath>
#include <limits>
#include <type_traits>

#include "ops_cpu/row_ops.h"
#include "ops_cpu/threads.h"
#include "ops_cpu/vec_math.h"

namespace gs::cpu {

using detail::row_max;
using detail::row_sum_exp;

template <class T>
void softmax_rows(int64_t rows, int64_t cols, const T* x, T* y) {
#pragma omp parallel for if (rows * cols > kParallelGrain / 4)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    const T m = row_max(cols, xr);
    const double s = row_sum_exp(cols, xr, m, yr);
    const T inv = static_cast<T>(1.0 / s);
    for (int64_t j = 0; j < cols; ++j) yr[j] *= inv;
  }
}

template <class T>
void log_softmax_rows(int64_t rows, int64_t cols, const T* x, T* y) {
#pragma omp parallel for if (rows * cols > kParallelGrain / 4)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    const T m = row_max(cols, xr);
    const double s = row_sum_exp<T>(cols, xr, m, nullptr);
    // shift = m + log(s), subtracted as (x - m) - log(s) so large m does not cost precision
    const T ls = static_cast<T>(std::log(s));
    for (int64_t j = 0; j < cols; ++j) yr[j] = (xr[j] - m) - ls;
  }
}

template <class T>
void softmax_backward_rows(int64_t rows, int64_t cols, const T* y, const T* gy, T* gx) {
#pragma omp parallel for if (rows * cols > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const T* yr = y + r * cols;
    const T* gr = gy + r * cols;
    T* out = gx + r * cols;
    double dot = 0;
    for (int64_t j = 0; j < cols; ++j) dot += static_cast<double>(gr[j]) * yr[j];
    const T d = static_cast<T>(dot);
    for (int64_t j = 0; j < cols; ++j) out[j] = yr[j] * (gr[j] - d);
  }
}

template <class T>
void log_softmax_backward_rows(int64_t rows, int64_t cols, const T* y, const T* gy, T* gx) {
#pragma omp parallel for if (rows * cols > kParallelGrain / 4)
  for (int64_t r = 0; r < rows; ++r) {
    const T* yr = y + r * cols;
    const T* gr = gy + r * cols;
    T* out = gx + r * cols;
    double s = 0;
    for (int64_t j = 0; j < cols; ++j) s += gr[j];
    const T sg = static_cast<T>(s);
    if constexpr (std::is_same_v<T, float>) {
      // softmax values block by block through a buffer (vectorised exp); out may alias gy
      constexpr int64_t kBlock = 1024;
      float p[kBlock];
      for (int64_t b = 0; b < cols; b += kBlock) {
        const int64_t len = cols - b < kBlock ? cols - b : kBlock;
        vec::exp(len, yr + b, p);
        for (int64_t j = 0; j < len; ++j) out[b + j] = gr[b + j] - p[j] * sg;
      }
    } else {
      for (int64_t j = 0; j < cols; ++j) out[j] = gr[j] - std::exp(yr[j]) * sg;
    }
  }
}

GS_SOFTMAX_INSTANTIATE

}  // namespace gs::cpu
