#pragma once
// Fused softmax cross-entropy on the CPU: the forward and backward shared with the CUDA backend
// (contract, shapes and edge rows: ops_common/cross_entropy.h), plus a fused pass and naive
// references that only the CPU has.
#include <cstdint>

#include "ops_common/cross_entropy.h"

namespace gs::cpu {

GS_CROSS_ENTROPY_KERNELS(GS_KERNEL_DECLARE)

// Forward and backward in one pass with the gradient written over the logits: on return
// logits[i, :] holds (softmax(row) - onehot) * scale (zeros for ignored rows), loss_rows and lse
// as in cross_entropy_forward. One exp per logit instead of two, and no second [N, V] buffer.
// Results equal forward + backward up to rounding (softmax here is e / sum e, there exp(x - lse)).
// logits: [N, V] (overwritten); targets, loss_rows, lse: [N]. T: float, double.
template <class T>
void cross_entropy_fused(int64_t N, int64_t V, T* logits, const int64_t* targets, int64_t ignore_index, T scale,
                         T* loss_rows, T* lse);

// References for tests: same contracts, two passes per row in double, and the backward
// materialises the row's softmax in a double buffer. Serial; not for production use.
template <class T>
void cross_entropy_forward_naive(int64_t N, int64_t V, const T* logits, const int64_t* targets,
                                 int64_t ignore_index, T* loss_rows, T* lse);
template <class T>
void cross_entropy_backward_naive(int64_t N, int64_t V, const T* logits, const int64_t* targets,
                                  int64_t ignore_index, T scale, T* grad);

}  // namespace gs::cpu
