#pragma once
// Layer norm and RMS norm over the last dimension on the device (contract: ops_common/norm.h;
// device pointers). Parameter gradients: fixed chunks of rows summed in order, no atomics.
#include "ops_common/norm.h"

namespace gs::cuda {

GS_NORM_KERNELS(GS_KERNEL_DECLARE)

}  // namespace gs::cuda
