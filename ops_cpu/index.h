#pragma once
// Concatenation on the CPU (contract: ops_common/index.h).
#include "ops_common/index.h"

namespace gs::cpu {

GS_INDEX_KERNELS(GS_KERNEL_DECLARE)

}  // namespace gs::cpu
