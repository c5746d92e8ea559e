#pragma once
// Contract of the concatenation kernel shared by gs::cpu and gs::cuda (ops_common/contract.h
// explains the list). Concatenation along one dimension, expressed on a 3-d view of the operands:
// a tensor of shape [..outer.., L, ..inner..] concatenated along the L dim is seen as
// [outer, L * inner]. All arrays contiguous, row-major.
//
// concat_into  src: [outer, len * inner]; dst: [outer, total * inner], offset + len <= total.
//              dst[o, (offset + l) * inner + i] = src[o, l * inner + i]  for l < len, i < inner.
//              Calling it once per input with running offsets builds the concatenation.
// T: float, double, int64_t.
#include <cstdint>

#include "ops_common/contract.h"

#define GS_INDEX_KERNELS_OF(X, T)                                                                       \
  X((class T), void, concat_into, "concat",                                                            \
    (int64_t outer, int64_t inner, int64_t len, int64_t total, int64_t offset, const T* src, T* dst))

#define GS_INDEX_KERNELS(X) GS_INDEX_KERNELS_OF(X, T)
#define GS_INDEX_INSTANTIATE_FOR(T) GS_INDEX_KERNELS_OF(GS_KERNEL_INSTANTIATE, T)
#define GS_INDEX_INSTANTIATE GS_ALL_TYPES(GS_INDEX_INSTANTIATE_FOR)
