#pragma once
// Concatenation on the device (contract: ops_common/index.h; device pointers).
#include "ops_common/index.h"

namespace gs::cuda {

GS_INDEX_KERNELS(GS_KERNEL_DECLARE)

}  // namespace gs::cuda
