#pragma once
// Elementwise kernels on the device (ops_cuda/elementwise.cu): the same entries as the CPU's,
// declared from one contract (ops_common/elementwise.h), with device pointers.
#include "ops_common/elementwise.h"

namespace gs::cuda {

using kernel::Binary;
using kernel::Unary;

GS_ELEMENTWISE_KERNELS(GS_KERNEL_DECLARE)

}  // namespace gs::cuda
