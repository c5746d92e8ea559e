#pragma once
// Layer norm and RMS norm over the last dimension on the CPU (contract: ops_common/norm.h). The
// parameter gradients' sums over rows run in row order.
#include "ops_common/norm.h"

namespace gs::cpu {

GS_NORM_KERNELS(GS_KERNEL_DECLARE)

}  // namespace gs::cpu
