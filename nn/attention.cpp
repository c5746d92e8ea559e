#include "nn/attention.h"

#include <cmath>
#include <limits>
#include <vector>

#include "autograd/ops.h"
#include "tensor/ops.h"

namespace gs::nn {

CausalSelfAttention::CausalSelfAttention(int64_t d, int64_t h, Generator& gen, DType dtype, bool bias)
    : d_model(d), n_head(h), head_dim(h > 0 ? d / h : 0), dtype_(dtype) {
  if (d <= 0 || h <= 0) fail("CausalSelfAttention", "d_model and n_head must be positive, got ", d, " and ", h);
  if (d % h != 0) fail("CausalSelfAttention", "d_model = ", d, " is not divisible by n_head = ", h);
  q = register_module("q", std::make_shared<Linear>(d, d, gen, bias, dtype));
  k = register_module("k", std::make_shared<Linear>(d, d, gen, bias, dtype));
  v = register_module("v", std::make_shared<Linear>(d, d, gen, bias, dtype));
  proj = register_module("proj", std::make_shared<Linear>(d, d, gen, bias, dtype));
}

Tensor CausalSelfAttention::causal_mask(int64_t T) const {
  // Built on the module's device (nn::to_device may have moved it since the cached copy was made).
  const Device dev = q->weight.device();
  auto it = masks_.find(T);
  if (it != masks_.end() && it->second.device() == dev) return it->second;
  std::vector<double> m(static_cast<size_t>(T * T), 0.0);
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = i + 1; j < T; ++j) m[static_cast<size_t>(i * T + j)] = 1.0;
  Tensor mask = op::to(op::to(from_vector(m, {T, T}), dtype_), dev);
  masks_.insert_or_assign(T, mask);
  return mask;
}

Tensor CausalSelfAttention::forward(const Tensor& x) const {
  if (x.dim() != 3 || x.size(2) != d_model)
    fail(node_name("CausalSelfAttention"), "input ", shape_str(x.shape()), " is not [B, T, ", d_model, "]");
  const int64_t B = x.size(0), T = x.size(1);
  // [B, T, D] -> [B, H, T, dh]
  auto heads = [&](const Tensor& t) { return permute(reshape(t, {B, T, n_head, head_dim}), {0, 2, 1, 3}); };
  const Tensor qx = q->forward(x), kx = k->forward(x), vx = v->forward(x);
  Tensor y;
  {
    NameScope scope(path());
    const Tensor qh = heads(qx), kh = heads(kx), vh = heads(vx);
    Tensor scores = mul(matmul(qh, transpose(kh, 2, 3)), 1.0 / std::sqrt(static_cast<double>(head_dim)));
    set_name(scores, node_name("scores"));
    Tensor masked = set_name(masked_fill(scores, causal_mask(T), -std::numeric_limits<double>::infinity()),
                             node_name("masked"));
    Tensor probs = set_name(softmax(masked), node_name("probs"));
    y = set_name(reshape(permute(matmul(probs, vh), {0, 2, 1, 3}), {B, T, d_model}), node_name("merge"));
  }
  return proj->forward(y);
}

}  // namespace gs::nn
