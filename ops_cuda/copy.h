#pragma once
// Strided copies and fills on the device. fill's contract is shared with the CPU
// (ops_common/copy.h); the copies are the CUDA backend's own: element size instead of a template
// (copies do not care about type), and a separate converting copy. Pointers are device pointers;
// shape and strides are host arrays.
#include <cstdint>

#include "ops_common/copy.h"

namespace gs::cuda {

// dst (contiguous) <- src read through src_strides (elements) over shape[ndim]; ndim <= 16.
// elem_size: 1, 2, 4 or 8 bytes.
void strided_copy(int ndim, const int64_t* shape, const void* src, const int64_t* src_strides,
                  int elem_size, void* dst);

// dst (contiguous) <- Dst(src) read through src_strides over shape[ndim]: a dtype conversion on
// the device with the CPU's strided_copy<Src, Dst> semantics (ops_cpu/copy.h: floating -> int64
// truncates, NaN -> 0, saturates). Src, Dst: float, double, int64_t (all nine pairs).
template <class Src, class Dst>
void strided_convert(int ndim, const int64_t* shape, const Src* src, const int64_t* src_strides, Dst* dst);
// Its explicit instantiations, one list for every backend (CUDA, stub, host emulator).
#define GS_CUDA_STRIDED_CONVERT(S, D) \
  template void strided_convert<S, D>(int, const int64_t*, const S*, const int64_t*, D*);
#define GS_CUDA_STRIDED_CONVERT_FROM(S) \
  GS_CUDA_STRIDED_CONVERT(S, float) GS_CUDA_STRIDED_CONVERT(S, double) GS_CUDA_STRIDED_CONVERT(S, int64_t)
#define GS_CUDA_STRIDED_CONVERT_ALL \
  GS_CUDA_STRIDED_CONVERT_FROM(float) GS_CUDA_STRIDED_CONVERT_FROM(double) GS_CUDA_STRIDED_CONVERT_FROM(int64_t)

// dst (through dst_strides) <- src (contiguous) over shape[ndim].
void strided_scatter(int ndim, const int64_t* shape, const void* src, void* dst, const int64_t* dst_strides,
                     int elem_size);

GS_COPY_KERNELS(GS_KERNEL_DECLARE)

}  // namespace gs::cuda
