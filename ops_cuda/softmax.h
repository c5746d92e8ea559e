#pragma once
// Softmax and log-softmax over the last axis on the device (contract and edge rows:
// ops_common/softmax.h; device pointers).
#include "ops_common/softmax.h"

namespace gs::cuda {

GS_SOFTMAX_KERNELS(GS_KERNEL_DECLARE)

}  // namespace gs::cuda
