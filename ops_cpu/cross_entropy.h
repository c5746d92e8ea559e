#pragma once
// Fused softmax cross-entropy over a [N, V] matrix of logits (row-major, contiguous) with
// int64 targets [N]. The forward makes one pass per row (online max and sum of exponentials)
// and keeps only the per-row logsumexp; the backward rebuilds softmax - onehot from logits and
// logsumexp on the fly, so probabilities are never stored and the only N x V buffer is the
// gradient itself (which may even be the logits buffer).
//
// Preconditions (checked by the tensor layer before the call; kernels cannot throw):
// every targets[i] is in [0, V) or equals ignore_index.
//
// Edge rows: a row whose logits are all -inf gives lse = -inf and loss NaN; a NaN in a row
// gives NaN lse and loss; a +inf gives lse = +inf and a non-finite loss. Entries equal to
// -inf in an otherwise finite row contribute probability 0 (finite loss unless targeted).
#include <cstdint>

namespace gs::cpu {

// lse[i]       = log sum_j exp(logits[i, j])          (computed for ignored rows too)
// loss_rows[i] = lse[i] - logits[i, targets[i]], or 0 when targets[i] == ignore_index
// logits: [N, V], targets: [N], loss_rows: [N], lse: [N]. T: float, double.
template <class T>
void cross_entropy_forward(int64_t N, int64_t V, const T* logits, const int64_t* targets,
                           int64_t ignore_index, T* loss_rows, T* lse);

// grad[i, j] = (exp(logits[i, j] - lse[i]) - [j == targets[i]]) * scale, and grad[i, :] = 0
// for rows with targets[i] == ignore_index. logits, grad: [N, V]; targets, lse: [N].
// grad may be the same buffer as logits (each element is read before it is written).
// T: float, double.
template <class T>
void cross_entropy_backward(int64_t N, int64_t V, const T* logits, const int64_t* targets,
                            const T* lse, int64_t ignore_index, T scale, T* grad);

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
