#pragma once
// Differentiable losses.
#include <cstdint>
#include <string_view>

#include "tensor/tensor.h"

namespace gs {

// Fused softmax cross-entropy: logits [N, V] (float32/float64), targets [N] int64 in [0, V) or
// == ignore_index. reduction "mean" divides the summed loss by the number of non-ignored rows
// (NaN when every row is ignored, as in PyTorch); "sum" does not divide. Returns a 0-d tensor.
// The backward never materialises probabilities: it writes (softmax - onehot) * scale from the
// saved logits and per-row logsumexp. Only logits receive a gradient.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index = -100,
                     std::string_view reduction = "mean");

}  // namespace gs
