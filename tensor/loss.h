#pragma once
// Fused softmax cross-entropy on [N, V] logits with int64 targets [N] (no graph: see
// autograd/ops/loss.h for the differentiable cross_entropy). The forward keeps one logsumexp per
// row; the backward rebuilds (softmax - onehot) * scale from logits and lse, so no N x V
// probability matrix is ever stored (ops_cpu/cross_entropy.h).
#include <cstdint>

#include "tensor/tensor.h"

namespace gs::op {

struct CrossEntropyResult {
  Tensor loss;      // 0-d: sum over valid rows of lse - logit[target] (0 when no row is valid)
  Tensor lse;       // [N]: logsumexp of every row (ignored rows included)
  int64_t n_valid;  // rows whose target != ignore_index
};

// logits: [N, V] float32/float64; targets: [N] int64, each in [0, V) or == ignore_index.
// Errors: "cross_entropy: logits must be 2-d [N, V], got [..]",
//         "cross_entropy: targets must be int64, got float32",
//         "cross_entropy: targets must be [N] = [4] for logits [4, 5], got [3]",
//         "cross_entropy: target 7 out of range for V = 5 (row 3)".
CrossEntropyResult cross_entropy_forward(const Tensor& logits, const Tensor& targets, int64_t ignore_index = -100);

// grad [N, V] = (softmax(logits) - onehot(targets)) * scale; rows with an ignored target are 0.
// lse: [N] from cross_entropy_forward (same dtype as logits). Same checks as the forward.
Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse, double scale,
                              int64_t ignore_index = -100);

// Both at once, in place: returns the forward's result and overwrites `logits` with the
// backward's gradient (softmax - onehot) * scale. For callers that need G and never the logits
// again (the head metrics): one exp per logit on the CPU and no second [N, V] buffer. logits
// must be contiguous ("cross_entropy: the in-place form needs contiguous logits, got ...").
// On CUDA: the forward, then the backward written over the logits.
CrossEntropyResult cross_entropy_fused_(const Tensor& logits, const Tensor& targets, double scale,
                                        int64_t ignore_index = -100);

}  // namespace gs::op
