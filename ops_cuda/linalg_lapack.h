#pragma once
// Dense linear algebra on cuSOLVER (geqrf / orgqr / gesvd in float64, linalg_lapack.cu) for the
// analysis layer; tensor/lapack.cpp calls these for CUDA tensors. Contract: ops_common/
// linalg_lapack.h, with every pointer on the device (Q, coeffs and sv included).
#include "ops_common/linalg_lapack.h"

namespace gs::cuda {

GS_LINALG_LAPACK_KERNELS(GS_KERNEL_DECLARE)

}  // namespace gs::cuda
