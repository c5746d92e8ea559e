#pragma once
// Contract of softmax and log-softmax over the last axis, shared by gs::cpu and gs::cuda
// (ops_common/contract.h explains the list). The tensor layer passes a contiguous [rows, cols]
// matrix (all leading axes flattened into rows).
//
// Numerics: each row subtracts its maximum (from -inf) before exp, and the sum of exponentials is
// accumulated in double. Edge rows, matching PyTorch:
//   - a row that is entirely -inf gives NaN for every entry of softmax and log_softmax
//     (max = -inf, and -inf - (-inf) is NaN). We do NOT return zeros: a fully masked row is
//     almost always a bug upstream and NaN makes it visible (anomaly mode names the node).
//   - a row with some -inf entries gives probability 0 (log-prob -inf) for those entries.
//   - a row containing NaN or +inf gives NaN throughout.
//
// softmax_rows               y[r, j] = exp(x[r, j] - m_r) / sum_k exp(x[r, k] - m_r), m_r = max_k x[r, k].
//                            x, y: [rows, cols]; y may alias x.
// log_softmax_rows           y[r, j] = x[r, j] - m_r - log(sum_k exp(x[r, k] - m_r)).
//                            x, y: [rows, cols]; y may alias x.
// softmax_backward_rows      gx[r, j] = y[r, j] * (gy[r, j] - sum_k gy[r, k] * y[r, k]), y = softmax
//                            output. y, gy, gx: [rows, cols]; gx may alias gy or y.
// log_softmax_backward_rows  gx[r, j] = gy[r, j] - exp(y[r, j]) * sum_k gy[r, k], y = log_softmax
//                            output (log-probs). y, gy, gx: [rows, cols]; gx may alias gy or y.
// T: float, double.
#include <cstdint>

#include "ops_common/contract.h"

#define GS_SOFTMAX_KERNELS_OF(X, T)                                                                     \
  X((class T), void, softmax_rows, "softmax", (int64_t rows, int64_t cols, const T* x, T* y))          \
  X((class T), void, log_softmax_rows, "log_softmax", (int64_t rows, int64_t cols, const T* x, T* y))  \
  X((class T), void, softmax_backward_rows, "softmax_backward",                                        \
    (int64_t rows, int64_t cols, const T* y, const T* gy, T* gx))                                      \
  X((class T), void, log_softmax_backward_rows, "log_softmax_backward",                                \
    (int64_t rows, int64_t cols, const T* y, const T* gy, T* gx))

#define GS_SOFTMAX_KERNELS(X) GS_SOFTMAX_KERNELS_OF(X, T)
#define GS_SOFTMAX_INSTANTIATE_FOR(T) GS_SOFTMAX_KERNELS_OF(GS_KERNEL_INSTANTIATE, T)
#define GS_SOFTMAX_INSTANTIATE GS_FLOAT_TYPES(GS_SOFTMAX_INSTANTIATE_FOR)
