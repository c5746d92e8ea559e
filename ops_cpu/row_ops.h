#pragma once
// Row helpers shared by the softmax and cross-entropy kernels (internal to ops_cpu). float32 goes
// through the vectorised routines of vec_math.h, float64 through plain loops with std::exp.
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "ops_cpu/vec_math.h"

namespace gs::cpu::detail {

// max_j x[j] from -inf; NaN entries are skipped (`x > m ? x : m`), they poison the sums instead.
template <class T>
T row_max(int64_t n, const T* x) {
  if constexpr (std::is_same_v<T, float>) {
    return vec::max(n, x);
  } else {
    T m = -std::numeric_limits<T>::infinity();
    for (int64_t j = 0; j < n; ++j) m = x[j] > m ? x[j] : m;
    return m;
  }
}

// sum_j exp(x[j] - shift) accumulated in double; with y (which may be x), also y[j] = exp(x[j] - shift).
template <class T>
double row_sum_exp(int64_t n, const T* x, T shift, T* y) {
  if constexpr (std::is_same_v<T, float>) {
    return vec::sum_exp(n, x, shift, y);
  } else {
    double s = 0;
    for (int64_t j = 0; j < n; ++j) {
      const T e = std::exp(x[j] - shift);
      if (y) y[j] = e;
      s += e;
    }
    return s;
  }
}

}  // namespace gs::cpu::detail
