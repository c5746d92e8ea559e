#include "ops_cpu/cross_entropy.h"

#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "ops_cpu/row_ops.h"
#include "ops_cpu/threads.h"
#include "ops_cpu/vec_math.h"

namespace gs::cpu {
namespace {

// log sum_j exp(x[j]) from two passes over the (cache-resident) row: the max, then the sum of
// exp(x - max) accumulated in double (vectorised for float32: row_ops.h). The exponent arguments
// are <= 0, so exp never overflows. Edge rows: all -inf gives lse = -inf (loss NaN); a +inf
// entry gives +inf (loss inf, or NaN when the target logit is +inf too); a NaN anywhere gives NaN
// (the max skips NaN, so the infinite-max rows look for one explicitly).
template <class T>
T row_logsumexp(int64_t V, const T* x) {
  const T m = detail::row_max(V, x);
  if (m == -std::numeric_limits<T>::infinity() || m == std::numeric_limits<T>::infinity()) {
    for (int64_t j = 0; j < V; ++j)
      if (x[j] != x[j]) return x[j];
    return m;
  }
  return static_cast<T>(static_cast<double>(m) + std::log(detail::row_sum_exp<T>(V, x, m, nullptr)));
}

// grad_row[j] = exp(row[j] - l) * scale; grad_row may be row.
template <class T>
void scaled_softmax_row(int64_t V, const T* row, T l, T scale, T* g) {
  if constexpr (std::is_same_v<T, float>) {
    vec::exp_scale(V, row, l, scale, g);
  } else {
    for (int64_t j = 0; j < V; ++j) g[j] = std::exp(row[j] - l) * scale;  // row[j] read first
  }
}

}  // namespace

template <class T>
void cross_entropy_forward(int64_t N, int64_t V, const T* logits, const int64_t* targets,
                           int64_t ignore_index, T* loss_rows, T* lse) {
#pragma omp parallel for if (N * V > kParallelGrain / 4)
  for (int64_t i = 0; i < N; ++i) {
    const T* row = logits + i * V;
    const T l = row_logsumexp(V, row);
    lse[i] = l;
    const int64_t t = targets[i];
    loss_rows[i] = t == ignore_index ? T(0) : l - row[t];
  }
}

template <class T>
void cross_entropy_backward(int64_t N, int64_t V, const T* logits, const int64_t* targets,
                            const T* lse, int64_t ignore_index, T scale, T* grad) {
#pragma omp parallel for if (N * V > kParallelGrain / 4)
  for (int64_t i = 0; i < N; ++i) {
    const T* row = logits + i * V;
    T* g = grad + i * V;
    const int64_t t = targets[i];
    if (t == ignore_index) {
      for (int64_t j = 0; j < V; ++j) g[j] = T(0);
      continue;
    }
    const T l = lse[i];
    scaled_softmax_row(V, row, l, scale, g);
    g[t] -= scale;
  }
}

template <class T>
void cross_entropy_fused(int64_t N, int64_t V, T* logits, const int64_t* targets, int64_t ignore_index, T scale,
                         T* loss_rows, T* lse) {
#pragma omp parallel for if (N * V > kParallelGrain / 4)
  for (int64_t i = 0; i < N; ++i) {
    T* row = logits + i * V;
    const int64_t t = targets[i];
    const bool ignored = t == ignore_index;
    const T target_logit = ignored ? T(0) : row[t];  // read before the row is overwritten
    const T m = detail::row_max(V, row);
    T l;
    if (m == -std::numeric_limits<T>::infinity() || m == std::numeric_limits<T>::infinity()) {
      // edge rows (all -inf, or a +inf): the separate kernels' results, row by row
      l = row_logsumexp(V, row);
      if (!ignored) scaled_softmax_row(V, row, l, scale, row);
    } else {
      // the row becomes exp(x - m) (one exp per logit), then (e / s) * scale
      const double s = detail::row_sum_exp<T>(V, row, m, ignored ? nullptr : row);
      l = static_cast<T>(static_cast<double>(m) + std::log(s));
      if (!ignored) {
        const T k = static_cast<T>(static_cast<double>(scale) / s);
        for (int64_t j = 0; j < V; ++j) row[j] *= k;
      }
    }
    lse[i] = l;
    loss_rows[i] = ignored ? T(0) : l - target_logit;
    if (ignored) {
      for (int64_t j = 0; j < V; ++j) row[j] = T(0);
    } else {
      row[t] -= scale;
    }
  }
}

template <class T>
void cross_entropy_forward_naive(int64_t N, int64_t V, const T* logits, const int64_t* targets,
                                 int64_t ignore_index, T* loss_rows, T* lse) {
  for (int64_t i = 0; i < N; ++i) {
    const T* row = logits + i * V;
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < V; ++j) m = std::fmax(m, static_cast<double>(row[j]));
    double s = 0;
    for (int64_t j = 0; j < V; ++j) s += std::exp(static_cast<double>(row[j]) - m);
    const double l = m + std::log(s);
    lse[i] = static_cast<T>(l);
    const int64_t t = targets[i];
    loss_rows[i] = t == ignore_index ? T(0) : static_cast<T>(l - static_cast<double>(row[t]));
  }
}

template <class T>
void cross_entropy_backward_naive(int64_t N, int64_t V, const T* logits, const int64_t* targets,
                                  int64_t ignore_index, T scale, T* grad) {
  std::vector<double> p(static_cast<size_t>(V));
  for (int64_t i = 0; i < N; ++i) {
    const T* row = logits + i * V;
    T* g = grad + i * V;
    const int64_t t = targets[i];
    if (t == ignore_index) {
      for (int64_t j = 0; j < V; ++j) g[j] = T(0);
      continue;
    }
    // materialise softmax(row) in double, then (p - onehot) * scale
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < V; ++j) m = std::fmax(m, static_cast<double>(row[j]));
    double s = 0;
    for (int64_t j = 0; j < V; ++j) s += (p[j] = std::exp(static_cast<double>(row[j]) - m));
    for (int64_t j = 0; j < V; ++j)
      g[j] = static_cast<T>((p[j] / s - (j == t ? 1.0 : 0.0)) * static_cast<double>(scale));
  }
}

GS_CROSS_ENTROPY_INSTANTIATE

// The CPU-only entries (ops_cpu/cross_entropy.h).
#define GS_CE(T)                                                                                          \
  template void cross_entropy_fused<T>(int64_t, int64_t, T*, const int64_t*, int64_t, T, T*, T*);         \
  template void cross_entropy_forward_naive<T>(int64_t, int64_t, const T*, const int64_t*, int64_t, T*, T*); \
  template void cross_entropy_backward_naive<T>(int64_t, int64_t, const T*, const int64_t*, int64_t, T, T*);
GS_CE(float)
GS_CE(double)
#undef GS_CE

}  // namespace gs::cpu
