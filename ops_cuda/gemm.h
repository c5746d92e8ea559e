#pragma once
// Matrix products on the device: cuBLAS (cublasSgemm / cublasDgemm, row-major by swapping
// operands); gemm_naive is one thread per C entry with a double accumulator. Contract:
// ops_common/gemm.h; device pointers. TF32 off unless allow_tf32(true).
#include "ops_common/gemm.h"

namespace gs::cuda {

GS_GEMM_KERNELS(GS_KERNEL_DECLARE)

// float32 products may use TF32 tensor cores (10-bit mantissa inputs) when allowed. Off by
// default: results then match the CPU to float32 rounding. Process-wide; returns the old value.
bool allow_tf32(bool allow);
bool tf32_allowed();

}  // namespace gs::cuda
