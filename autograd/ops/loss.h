#pragma once
// Differentiable losses.
#include <cstdint>
#include <functional>
#include <string>
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

// One chunk of rows of linear_cross_entropy's forward, as its on_chunk hook sees it.
//   G  [i1 - i0, V]: d loss / d logits for rows i0..i1-1, i.e. (softmax - onehot) / n_valid
//      ("mean") or (softmax - onehot) ("sum"), zero rows where the target is ignored: the rows of
//      what the unfused path's logits node receives when backward starts at this loss. Contiguous,
//      H's dtype and device.
//   H  [i1 - i0, D]: the same rows of the op's H (no graph).
//   loss_sum: sum over the chunk's valid rows of lse - logit[target] (not divided by n_valid).
// G is a view of the op's chunk buffer, overwritten by the next chunk: clone it to keep it, and do
// not write into it (the weight and hidden gradients are accumulated from it after the hook).
struct LinearCrossEntropyChunk {
  int64_t i0 = 0, i1 = 0;
  Tensor G, H;
  double loss_sum = 0;
};
using LinearCrossEntropyChunkFn = std::function<void(const LinearCrossEntropyChunk&)>;

struct LinearCrossEntropyOptions {
  int64_t ignore_index = -100;
  std::string reduction = "mean";  // "mean" (over non-ignored rows) or "sum"
  int64_t chunk = 0;  // rows per chunk; 0: the most rows whose [chunk, V] buffer fits the budget
  int64_t memory_budget_bytes = int64_t{64} << 20;  // bound on the one [chunk, V] logits buffer
  // Called once per chunk, in row order, during the forward (see LinearCrossEntropyChunk). Also
  // called under NoGradGuard: the analysis can read G without any gradient being accumulated.
  LinearCrossEntropyChunkFn on_chunk;
};

// loss = cross_entropy(H W^T (+ bias), targets) without the [N, V] logits: fused and chunked.
//   H [N, D], W [V, D], bias [V] or undefined (all float32 or all float64, one device),
//   targets [N] int64 in [0, V) or == ignore_index; returns a 0-d tensor of H's dtype.
// Per chunk of c rows (one [c, V] buffer, reused): logits_c = H_c W^T (+ b), then loss and
// G_c = d loss / d logits_c in place (op::cross_entropy_fused_), the hook, and at once the
// gradients dH_c = G_c W [c, D], dW += G_c^T H_c [V, D], db += colsum(G_c) for the inputs that
// require grad (or carry a tangent inside jvp(): the loss's tangent is <dH, tH> + <dW, tW> +
// <db, tb>). The backward only scales the stored dH, dW, db by the upstream scalar gradient.
// Memory: c V + (what is stored) N D + V D (+ V) elements of H's dtype beyond the inputs; the
// backward adds a scaled copy of each. No "logits" node exists: code that needs G as the gradient
// arriving at a logits node (hooks, observers, the leak test) computes the logits itself (or uses
// on_chunk). Same conventions as cross_entropy: "mean" over zero valid rows gives NaN and zero
// gradients; "sum" gives 0.
// Errors start with "linear_cross_entropy: " and name the shapes, e.g.
//   "linear_cross_entropy: H [4, 3] and W [5, 2] disagree on D (W must be [V, D])",
//   "linear_cross_entropy: targets must be int64, got float32",
//   "linear_cross_entropy: target 7 out of range for V = 5 (row 3)".
Tensor linear_cross_entropy(const Tensor& H, const Tensor& W, const Tensor& bias, const Tensor& targets,
                            const LinearCrossEntropyOptions& opt = {});
// The same without a bias.
Tensor linear_cross_entropy(const Tensor& H, const Tensor& W, const Tensor& targets,
                            const LinearCrossEntropyOptions& opt = {});

// The rows per chunk linear_cross_entropy uses for N rows, V classes and dtype: opt.chunk when
// > 0, else memory_budget_bytes / (V * dtype size); clamped to [1, max(N, 1)].
int64_t linear_cross_entropy_chunk_rows(int64_t N, int64_t V, DType dtype, const LinearCrossEntropyOptions& opt = {});

}  // namespace gs
