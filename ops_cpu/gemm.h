#pragma once
// Matrix products on the CPU: cblas_sgemm / cblas_dgemm; gemm_naive is a triple loop with a
// double accumulator (contract: ops_common/gemm.h).
#include "ops_common/gemm.h"

namespace gs::cpu {

GS_GEMM_KERNELS(GS_KERNEL_DECLARE)

}  // namespace gs::cpu
