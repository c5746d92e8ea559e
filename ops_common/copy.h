#pragma once
// Contract of the fill kernel, the one copy-family entry both backends share (ops_common/
// contract.h explains the list). The strided copies differ by backend and stay in each backend's
// header: the CPU's strided_copy<Src, Dst> converts while it copies, the CUDA backend moves bytes
// (elem_size) and converts with strided_convert<Src, Dst> (ops_cpu/copy.h, ops_cuda/copy.h).
//
// fill  dst[0..n) = value. T: float, double, int64_t.
#include <cstdint>

#include "ops_common/contract.h"

#define GS_COPY_KERNELS_OF(X, T) X((class T), void, fill, "fill", (int64_t n, T value, T* dst))

#define GS_COPY_KERNELS(X) GS_COPY_KERNELS_OF(X, T)
#define GS_COPY_INSTANTIATE_FOR(T) GS_COPY_KERNELS_OF(GS_KERNEL_INSTANTIATE, T)
#define GS_COPY_INSTANTIATE GS_ALL_TYPES(GS_COPY_INSTANTIATE_FOR)
