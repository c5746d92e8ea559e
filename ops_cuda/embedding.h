#pragma once
// Embedding gather and its scatter-add backward on the device (contract: ops_common/embedding.h;
// device pointers). Determinism of the backward here, without atomics: the indices are
// stable-sorted and each distinct index's rows are added in index order starting from 0, the
// CPU's order, so results match ops_cpu bit for bit.
#include "ops_common/embedding.h"

namespace gs::cuda {

GS_EMBEDDING_KERNELS(GS_KERNEL_DECLARE)

}  // namespace gs::cuda
