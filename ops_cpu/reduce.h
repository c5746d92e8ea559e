#pragma once
// Reductions. The tensor layer permutes the reduced axes to the end and makes the input
// contiguous, so most kernels see a row-major [outer, inner] matrix and reduce each row.
// sum_middle reduces the middle axis of [outer, mid, inner] in place of a permute + copy
// (used by sum_to to undo broadcasting).
#include <cstdint>

namespace gs::cpu {

// y[o] = sum_i x[o * inner + i].  x: [outer, inner] contiguous, y: [outer].
// Float sums accumulate in double. inner == 0 gives 0. The summation order depends only on
// the sizes (fixed chunks, combined serially), never on the thread count, so results are
// bitwise reproducible across GRADSCOPE_NUM_THREADS. T: float, double, int64_t.
template <class T>
void sum_rows(int64_t outer, int64_t inner, const T* x, T* y);

// y[o * inner + i] = sum_m x[(o * mid + m) * inner + i].
// x: [outer, mid, inner] contiguous, y: [outer, inner]. mid == 0 gives 0.
// Float sums accumulate in double. T: float, double, int64_t.
template <class T>
void sum_middle(int64_t outer, int64_t mid, int64_t inner, const T* x, T* y);

// y[o] = max_i x[o * inner + i], idx[o] = the first i attaining it (idx may be nullptr).
// x: [outer, inner] contiguous with inner >= 1 (the tensor layer rejects empty reductions),
// y: [outer], idx: [outer] or nullptr.
// NaN propagates: a row containing NaN gives y = NaN and idx = the first NaN's position
// (as torch.max / torch.argmax do). T: float, double, int64_t.
template <class T>
void max_rows(int64_t outer, int64_t inner, const T* x, T* y, int64_t* idx);

}  // namespace gs::cpu
