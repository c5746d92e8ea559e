#pragma once
// Reductions on the CPU (contract: ops_common/reduce.h). Float sums run over fixed chunks
// combined serially, so results do not depend on GRADSCOPE_NUM_THREADS.
#include "ops_common/reduce.h"

namespace gs::cpu {

GS_REDUCE_KERNELS(GS_KERNEL_DECLARE)

}  // namespace gs::cpu
