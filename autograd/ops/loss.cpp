// Losses: forward and vjp side by side.
#include "autograd/ops/loss.h"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "autograd/jvp.h"
#include "autograd/variable.h"
#include "tensor/convert.h"
#include "tensor/creation.h"
#include "tensor/elementwise.h"
#include "tensor/lapack.h"  // op::addmm_: C <- alpha op(A) op(B) + beta C, accumulated in place
#include "tensor/loss.h"
#include "tensor/reduce.h"
#include "tensor/views.h"

namespace gs {

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index, std::string_view reduction) {
  if (reduction != "mean" && reduction != "sum")
    fail("cross_entropy", "reduction must be \"mean\" or \"sum\", got \"", std::string(reduction), "\"");
  op::CrossEntropyResult r = op::cross_entropy_forward(logits, targets, ignore_index);
  const double denom = reduction == "mean" ? static_cast<double>(r.n_valid) : 1.0;
  Tensor loss = reduction == "mean" ? op::div(r.loss, denom) : r.loss;
  return record(
      "cross_entropy", loss, {logits},
      [logits = saved(logits), targets, lse = r.lse, ignore_index, denom](const Tensor& g) {
        const double scale = g.item<double>() / denom;
        return grads(op::cross_entropy_backward(logits, targets, lse, scale, ignore_index));
      },
      // the loss is a scalar: d loss = <G, d logits>, G the vjp's gradient for g = 1
      [&](const std::vector<Tensor>& t) {
        return op::sum(op::mul(op::cross_entropy_backward(logits, targets, r.lse, 1.0 / denom, ignore_index), t[0]));
      });
}

// ---------------------------------------------------------------------------------------------
// linear_cross_entropy: the LM head and its loss in one chunked pass.
//
// Why the gradients are computed in the forward (one pass, dH and dW stored) rather than by
// recomputing the logits in the backward: the loss is a scalar, so everything the backward needs
// except one number (the upstream gradient g) is known in the forward, and d loss / dH = g dH1,
// d loss / dW = g dW1 with dH1, dW1 the gradients for g = 1. Computing them while G_c is in the
// chunk buffer costs three N x D x V products (logits, G W, G^T H); recomputing in the backward
// costs four (the logits twice) and keeps H alive instead of dH (the same size). The price is
// that the gradient products run in the forward: they are skipped under NoGradGuard and when no
// input requires grad, so evaluation pays only for the logits.
//
// Forward mode (jvp) uses the same g = 1 gradients: the loss is a scalar, so its tangent is
// d loss = <dH1, dH> + <dW1, dW> + <db1, db>, one dot product per input. That equals what the
// chunked logits' tangent dZ = dH W^T + H dW^T + db would give (sum over rows of <G_c, dZ_c>),
// without a second pass over V; the products are computed for an input that carries a tangent
// as for one that requires grad (under NoGradGuard too: forward mode ignores it).
namespace {

constexpr const char* kLce = "linear_cross_entropy";

// Checks every argument (shapes, dtypes, devices, options, each target); returns the number of
// valid rows. The target scan reads the targets on the host: kernels cannot report a bad index.
int64_t check_linear_ce(const Tensor& H, const Tensor& W, const Tensor& bias, const Tensor& targets,
                        const LinearCrossEntropyOptions& opt) {
  if (opt.reduction != "mean" && opt.reduction != "sum")
    fail(kLce, "reduction must be \"mean\" or \"sum\", got \"", opt.reduction, "\"");
  if (opt.chunk < 0) fail(kLce, "chunk must be >= 0 (0: from memory_budget_bytes), got ", opt.chunk);
  if (opt.chunk == 0 && opt.memory_budget_bytes <= 0)
    fail(kLce, "memory_budget_bytes must be > 0 when chunk is 0, got ", opt.memory_budget_bytes);
  if (!H.defined() || !W.defined() || !targets.defined()) fail(kLce, "H, W and targets must be defined");
  if (H.dim() != 2) fail(kLce, "H must be 2-d [N, D], got ", shape_str(H.shape()));
  if (W.dim() != 2) fail(kLce, "W must be 2-d [V, D], got ", shape_str(W.shape()));
  if (!is_floating(H.dtype())) fail(kLce, "H must be float32 or float64, got ", dtype_name(H.dtype()));
  if (W.dtype() != H.dtype()) fail(kLce, "H is ", dtype_name(H.dtype()), " but W is ", dtype_name(W.dtype()));
  const int64_t N = H.shape()[0], D = H.shape()[1], V = W.shape()[0];
  if (W.shape()[1] != D)
    fail(kLce, "H ", shape_str(H.shape()), " and W ", shape_str(W.shape()), " disagree on D (W must be [V, D])");
  if (bias.defined() && (bias.shape() != Shape{V} || bias.dtype() != H.dtype()))
    fail(kLce, "bias must be [V] = [", V, "] ", dtype_name(H.dtype()), " for W ", shape_str(W.shape()), ", got ",
         shape_str(bias.shape()), " ", dtype_name(bias.dtype()));
  if (targets.dtype() != kInt64) fail(kLce, "targets must be int64, got ", dtype_name(targets.dtype()));
  if (targets.shape() != Shape{N})
    fail(kLce, "targets must be [N] = [", N, "] for H ", shape_str(H.shape()), ", got ", shape_str(targets.shape()));
  for (const auto& [what, t] : {std::pair<const char*, const Tensor*>{"W", &W}, {"bias", &bias}, {"targets", &targets}})
    if (t->defined() && t->device() != H.device())
      fail(kLce, "H on ", device_name(H.device()), " but ", what, " on ", device_name(t->device()));
  if (V == 0 && N > 0) fail(kLce, "W ", shape_str(W.shape()), " has no classes (V = 0)");
  const std::vector<int64_t> t = targets.to_vector<int64_t>();
  int64_t valid = 0;
  for (int64_t i = 0; i < N; ++i) {
    if (t[i] == opt.ignore_index) continue;
    if (t[i] < 0 || t[i] >= V) fail(kLce, "target ", t[i], " out of range for V = ", V, " (row ", i, ")");
    ++valid;
  }
  return valid;
}

bool wants_grad(const Tensor& t) { return t.defined() && requires_grad_flag(t); }

}  // namespace

int64_t linear_cross_entropy_chunk_rows(int64_t N, int64_t V, DType dtype, const LinearCrossEntropyOptions& opt) {
  int64_t c = opt.chunk;
  if (c <= 0) c = opt.memory_budget_bytes / (std::max<int64_t>(V, 1) * static_cast<int64_t>(dtype_size(dtype)));
  return std::clamp<int64_t>(c, 1, std::max<int64_t>(N, 1));
}

Tensor linear_cross_entropy(const Tensor& H_in, const Tensor& W_in, const Tensor& bias_in, const Tensor& targets_in,
                            const LinearCrossEntropyOptions& opt) {
  const int64_t n_valid = check_linear_ce(H_in, W_in, bias_in, targets_in, opt);
  const bool mean = opt.reduction == "mean";
  // One contiguous() each, before the loop (no copy when already contiguous): the chunks are
  // row ranges of H, so H_c is contiguous and W^T is a flag of the gemm.
  const Tensor H = op::contiguous(H_in), W = op::contiguous(W_in), targets = op::contiguous(targets_in);
  const Tensor bias = bias_in.defined() ? op::contiguous(bias_in) : Tensor();
  const int64_t N = H.shape()[0], D = H.shape()[1], V = W.shape()[0];
  const DType dt = H.dtype();
  const Device dev = H.device();

  // The gradients to accumulate: for reverse mode when record() will build a node, and for an
  // input that carries a tangent (forward mode, see above).
  const bool track = is_grad_enabled();
  const bool rH = track && wants_grad(H_in), rW = track && wants_grad(W_in), rb = track && wants_grad(bias_in);
  const bool gH = rH || has_tangent(H_in), gW = rW || has_tangent(W_in), gb = rb || has_tangent(bias_in);
  // G for upstream gradient 1: (softmax - onehot) / n_valid ("mean"). Zero valid rows: every row
  // of G is zero whatever the scale, so 1 avoids an infinite scale inside the kernel.
  const double scale = mean && n_valid > 0 ? 1.0 / static_cast<double>(n_valid) : 1.0;

  Tensor dH = gH ? empty({N, D}, dt, dev) : Tensor();  // [N, D], every row block written once
  Tensor dW = gW ? zeros({V, D}, dt, dev) : Tensor();  // [V, D], accumulated over chunks
  Tensor db = gb ? zeros({V}, dt, dev) : Tensor();     // [V]
  const int64_t c_max = linear_cross_entropy_chunk_rows(N, V, dt, opt);
  Tensor buf = N > 0 ? empty({c_max, V}, dt, dev) : Tensor();  // logits, then G, of one chunk
  double loss_sum = 0;  // per-chunk sums (in dt) accumulated in double
  for (int64_t i0 = 0; i0 < N; i0 += c_max) {
    const int64_t c = std::min(c_max, N - i0);
    const Tensor Z = op::narrow(buf, 0, 0, c);  // [c, V], leading rows: contiguous
    const Tensor Hc = op::narrow(H, 0, i0, c);  // [c, D]
    const Tensor yc = op::narrow(targets, 0, i0, c);
    // Z = H_c W^T (+ b): the bias is copied into every row first and the product added to it
    if (bias.defined()) {
      op::copy_(Z, bias);
      op::addmm_(Z, Hc, W, false, true, 1.0, 1.0);
    } else {
      op::addmm_(Z, Hc, W, false, true, 1.0, 0.0);
    }
    // Z <- G_c = (softmax(Z) - onehot) * scale, in place; ignored rows become 0. Also without
    // gradients: one kernel for the loss in every mode, so the value does not depend on it.
    const double chunk_loss = op::cross_entropy_fused_(Z, yc, scale, opt.ignore_index).loss.item<double>();
    loss_sum += chunk_loss;
    if (opt.on_chunk) opt.on_chunk(LinearCrossEntropyChunk{i0, i0 + c, Z, Hc, chunk_loss});
    if (gH) op::addmm_(op::narrow(dH, 0, i0, c), Z, W, false, false, 1.0, 0.0);  // [c, V] x [V, D]
    if (gW) op::addmm_(dW, Z, Hc, true, false, 1.0, 1.0);                        // [V, c] x [c, D]
    if (gb) op::axpy_(db, 1.0, op::sum(Z, {0}));                                  // colsum [V]
  }
  buf = Tensor();  // the chunk buffer is not part of what the node keeps

  double value = loss_sum;
  if (mean) value = n_valid > 0 ? loss_sum / static_cast<double>(n_valid) : std::numeric_limits<double>::quiet_NaN();
  const Tensor loss = scalar(value, dt, dev);
  return record(
      kLce, loss, {H_in, W_in, bias_in},
      // the node keeps only what reverse mode needs
      [dH = rH ? dH : Tensor(), dW = rW ? dW : Tensor(), db = rb ? db : Tensor()](const Tensor& g) {
        // The stored gradients are for g = 1; the result is a scaled copy, so a second backward
        // (retain_graph) sees them unchanged, and whoever receives the gradient may modify it.
        const double s = g.item<double>();
        auto scaled = [s](const Tensor& t) { return t.defined() ? op::mul(t, s) : Tensor(); };
        return grads(scaled(dH), scaled(dW), scaled(db));
      },
      [&](const std::vector<Tensor>& t) {
        auto dot = [](const Tensor& g1, const Tensor& tan) {
          return tan.defined() ? op::sum(op::mul(g1, tan)) : Tensor();
        };
        return add_tangents(add_tangents(dot(dH, t[0]), dot(dW, t[1])), dot(db, t[2]));
      });
}

Tensor linear_cross_entropy(const Tensor& H, const Tensor& W, const Tensor& targets,
                            const LinearCrossEntropyOptions& opt) {
  return linear_cross_entropy(H, W, Tensor(), targets, opt);
}

}  // namespace gs
