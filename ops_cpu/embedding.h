#pragma once
// Embedding gather and its scatter-add backward on the CPU (contract: ops_common/embedding.h).
// Determinism of the backward here: threads split the D columns into fixed blocks and each block
// adds in index order, so repeated indices sum in the same order whatever the thread count.
#include "ops_common/embedding.h"

namespace gs::cpu {

GS_EMBEDDING_KERNELS(GS_KERNEL_DECLARE)

}  // namespace gs::cpu
