#pragma once
// Reductions on the device (contract: ops_common/reduce.h; device pointers). Every sum is a fixed
// tree whose shape depends only on the sizes; no atomics.
#include "ops_common/reduce.h"

namespace gs::cuda {

GS_REDUCE_KERNELS(GS_KERNEL_DECLARE)

}  // namespace gs::cuda
