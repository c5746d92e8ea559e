#pragma once
// Contract of the fused softmax cross-entropy kernels shared by gs::cpu and gs::cuda (ops_common/
// contract.h explains the list). A [N, V] matrix of logits (row-major, contiguous) with int64
// targets [N]. The forward makes one pass per row (online max and sum of exponentials) and keeps
// only the per-row logsumexp; the backward rebuilds softmax - onehot from logits and logsumexp on
// the fly, so probabilities are never stored and the only N x V buffer is the gradient itself
// (which may even be the logits buffer).
//
// Preconditions (checked by the tensor layer before the call; kernels cannot throw):
// every targets[i] is in [0, V) or equals ignore_index.
//
// Edge rows: a row whose logits are all -inf gives lse = -inf and loss NaN; a NaN in a row
// gives NaN lse and loss; a +inf gives lse = +inf and a non-finite loss. Entries equal to
// -inf in an otherwise finite row contribute probability 0 (finite loss unless targeted).
//
// cross_entropy_forward   lse[i] = log sum_j exp(logits[i, j])   (computed for ignored rows too)
//                         loss_rows[i] = lse[i] - logits[i, targets[i]], or 0 when
//                         targets[i] == ignore_index.
//                         logits: [N, V], targets: [N], loss_rows: [N], lse: [N].
// cross_entropy_backward  grad[i, j] = (exp(logits[i, j] - lse[i]) - [j == targets[i]]) * scale, and
//                         grad[i, :] = 0 for rows with targets[i] == ignore_index.
//                         logits, grad: [N, V]; targets, lse: [N]. grad may be the same buffer as
//                         logits (each element is read before it is written).
// T: float, double.
#include <cstdint>

#include "ops_common/contract.h"

#define GS_CROSS_ENTROPY_KERNELS_OF(X, T)                                                            \
  X((class T), void, cross_entropy_forward, "cross_entropy",                                        \
    (int64_t N, int64_t V, const T* logits, const int64_t* targets, int64_t ignore_index, T* loss_rows, T* lse)) \
  X((class T), void, cross_entropy_backward, "cross_entropy_backward",                              \
    (int64_t N, int64_t V, const T* logits, const int64_t* targets, const T* lse, int64_t ignore_index, T scale, \
     T* grad))

#define GS_CROSS_ENTROPY_KERNELS(X) GS_CROSS_ENTROPY_KERNELS_OF(X, T)
#define GS_CROSS_ENTROPY_INSTANTIATE_FOR(T) GS_CROSS_ENTROPY_KERNELS_OF(GS_KERNEL_INSTANTIATE, T)
#define GS_CROSS_ENTROPY_INSTANTIATE GS_FLOAT_TYPES(GS_CROSS_ENTROPY_INSTANTIATE_FOR)
