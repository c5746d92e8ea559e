#pragma once
// Softmax and log-softmax over the last axis on the CPU (contract and edge rows:
// ops_common/softmax.h). float32 rows go through the vectorised exp of vec_math.h.
#include "ops_common/softmax.h"

namespace gs::cpu {

GS_SOFTMAX_KERNELS(GS_KERNEL_DECLARE)

}  // namespace gs::cpu
