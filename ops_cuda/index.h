#pragma once
// CUDA mirror of ops_cpu/index.h: same signatures, pointers are device pointers.
// Concatenation along one dimension, expressed on a 3-d view of the operands:
// a tensor of shape [..outer.., L, ..inner..] concatenated along the L dim is seen as
// [outer, L * inner]. All arrays contiguous, row-major. T: float, double, int64_t.
#include <cstdint>

namespace gs::cuda {

// src: [outer, len * inner]; dst: [outer, total * inner], offset + len <= total.
// dst[o, (offset + l) * inner + i] = src[o, l * inner + i]  for l < len, i < inner.
// Calling it once per input with running offsets builds the concatenation.
template <class T>
void concat_into(int64_t outer, int64_t inner, int64_t len, int64_t total, int64_t offset,
                 const T* src, T* dst);

}  // namespace gs::cuda
