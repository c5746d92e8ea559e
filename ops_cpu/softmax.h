#pragma once
// Softmax and log-softmax over the last axis. The tensor layer passes a contiguous
// [rows, cols] matrix (all leading axes flattened into rows).
//
// Numerics: each row subtracts its running maximum (initialised to -inf) before exp, and the
// sum of exponentials is accumulated in double. Edge rows, matching PyTorch:
//   - a row that is entirely -inf gives NaN for every entry of softmax and log_softmax
//     (max = -inf, and -inf - (-inf) is NaN). We do NOT return zeros: a fully masked row is
//     almost always a bug upstream and NaN makes it visible (anomaly mode names the node).
//   - a row with some -inf entries gives probability 0 (log-prob -inf) for those entries.
//   - a row containing NaN or +inf gives NaN throughout.
#include <cstdint>

namespace gs::cpu {

// y[r, j] = exp(x[r, j] - m_r) / sum_k exp(x[r, k] - m_r), m_r = max_k x[r, k].
// x, y: [rows, cols] contiguous; y may alias x. T: float, double.
template <class T>
void softmax_rows(int64_t rows, int64_t cols, const T* x, T* y);

// y[r, j] = x[r, j] - m_r - log(sum_k exp(x[r, k] - m_r)).
// x, y: [rows, cols] contiguous; y may alias x. T: float, double.
template <class T>
void log_softmax_rows(int64_t rows, int64_t cols, const T* x, T* y);

// gx[r, j] = y[r, j] * (gy[r, j] - sum_k gy[r, k] * y[r, k]), y = softmax output.
// y, gy, gx: [rows, cols] contiguous; gx may alias gy or y. T: float, double.
template <class T>
void softmax_backward_rows(int64_t rows, int64_t cols, const T* y, const T* gy, T* gx);

// gx[r, j] = gy[r, j] - exp(y[r, j]) * sum_k gy[r, k], y = log_softmax output (log-probs).
// y, gy, gx: [rows, cols] contiguous; gx may alias gy or y. T: float, double.
template <class T>
void log_softmax_backward_rows(int64_t rows, int64_t cols, const T* y, const T* gy, T* gx);

}  // namespace gs::cpu
