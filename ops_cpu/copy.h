#pragma once
// Strided copies and fills on the CPU. The caller (tensor layer) passes the logical shape and the
// element strides of the source; the destination is always contiguous (row-major). fill's
// contract is shared with the CUDA backend (ops_common/copy.h); the strided copies are the CPU's.
#include <cstdint>

#include "ops_common/copy.h"

namespace gs::cpu {

// dst[i] = Dst(src at multi-index i), shape [shape[0], ..., shape[ndim-1]], ndim <= 16.
// Src strides may be 0 (broadcast) or negative-free arbitrary non-negative values.
// Floating -> int64 truncates toward zero and is defined everywhere (a plain C++ cast is not):
// NaN -> 0, values beyond the int64 range saturate to INT64_MIN / INT64_MAX. The CUDA backend's
// strided_convert does the same, so both devices agree on every input.
template <class Src, class Dst>
void strided_copy(int ndim, const int64_t* shape, const Src* src, const int64_t* src_strides, Dst* dst);

// dst at multi-index i (through dst_strides, no stride 0) = src[i], src contiguous. The
// scatter twin of strided_copy, used to write a gradient into a view (slice/narrow backward).
template <class T>
void strided_scatter(int ndim, const int64_t* shape, const T* src, T* dst, const int64_t* dst_strides);

GS_COPY_KERNELS(GS_KERNEL_DECLARE)

}  // namespace gs::cpu
