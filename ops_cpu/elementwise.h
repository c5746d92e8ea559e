#pragma once
// Elementwise kernels on the CPU: unary, unary_backward, binary, where, axpy. Contracts (shapes,
// strides, types) in ops_common/elementwise.h; the ops in ops_common/unary_ops.h and binary_ops.h.
#include "ops_common/elementwise.h"

namespace gs::cpu {

using kernel::Binary;
using kernel::Unary;

GS_ELEMENTWISE_KERNELS(GS_KERNEL_DECLARE)

}  // namespace gs::cpu
