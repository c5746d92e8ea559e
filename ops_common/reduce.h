#pragma once
// Contract of the reductions shared by gs::cpu and gs::cuda (ops_common/contract.h explains the
// list). The tensor layer permutes the reduced axes to the end and makes the input contiguous, so
// most kernels see a row-major [outer, inner] matrix and reduce each row. sum_middle reduces the
// middle axis of [outer, mid, inner] in place of a permute + copy (used by sum_to to undo
// broadcasting). Float sums accumulate in double; the summation order depends only on the sizes,
// never on the thread count or scheduling, so results are bitwise reproducible.
//
// sum_rows    y[o] = sum_i x[o * inner + i].  x: [outer, inner] contiguous, y: [outer].
//             inner == 0 gives 0.
// sum_middle  y[o * inner + i] = sum_m x[(o * mid + m) * inner + i].
//             x: [outer, mid, inner] contiguous, y: [outer, inner]. mid == 0 gives 0.
// max_rows    y[o] = max_i x[o * inner + i], idx[o] = the first i attaining it (idx may be nullptr).
//             x: [outer, inner] contiguous with inner >= 1 (the tensor layer rejects empty
//             reductions), y: [outer], idx: [outer] or nullptr. NaN propagates: a row containing
//             NaN gives y = NaN and idx = the first NaN's position (as torch.max / torch.argmax do).
// T: float, double, int64_t.
#include <cstdint>

#include "ops_common/contract.h"

#define GS_REDUCE_KERNELS_OF(X, T)                                                                   \
  X((class T), void, sum_rows, "sum", (int64_t outer, int64_t inner, const T* x, T* y))             \
  X((class T), void, sum_middle, "sum", (int64_t outer, int64_t mid, int64_t inner, const T* x, T* y)) \
  X((class T), void, max_rows, "max", (int64_t outer, int64_t inner, const T* x, T* y, int64_t* idx))

#define GS_REDUCE_KERNELS(X) GS_REDUCE_KERNELS_OF(X, T)
#define GS_REDUCE_INSTANTIATE_FOR(T) GS_REDUCE_KERNELS_OF(GS_KERNEL_INSTANTIATE, T)
#define GS_REDUCE_INSTANTIATE GS_ALL_TYPES(GS_REDUCE_INSTANTIATE_FOR)
