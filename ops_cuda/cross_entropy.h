#pragma once
// Fused softmax cross-entropy on the device (ops_cuda/cross_entropy.cu): the entries shared with
// the CPU (contract, shapes and edge rows: ops_common/cross_entropy.h), with device pointers.
#include "ops_common/cross_entropy.h"

namespace gs::cuda {

GS_CROSS_ENTROPY_KERNELS(GS_KERNEL_DECLARE)

}  // namespace gs::cuda
