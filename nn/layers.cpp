#include "nn/layers.h"

#include <cmath>

#include "autograd/ops.h"
#include "nn/init.h"
#include "tensor/ops.h"

namespace gs::nn {

Linear::Linear(int64_t in, int64_t out, Generator& gen, bool has_bias, DType dtype)
    : in_features(in), out_features(out) {
  if (in <= 0 || out <= 0) fail("Linear", "features must be positive, got in = ", in, ", out = ", out);
  // PyTorch's default: U(-1/sqrt(in), 1/sqrt(in)) for both weight and bias
  weight = register_parameter("weight", init::kaiming_uniform({out, in}, gen, 1.0 / std::sqrt(3.0), dtype));
  if (has_bias) {
    const double b = 1.0 / std::sqrt(static_cast<double>(in));
    bias = register_parameter("bias", uniform({out}, gen, -b, b, dtype));
  }
}

Tensor Linear::forward(const Tensor& x) const {
  if (x.dim() < 1 || x.shape().back() != in_features)
    fail(node_name("Linear"), "input ", shape_str(x.shape()), " does not end in in_features = ", in_features);
  NameScope scope(path());
  Tensor y = matmul(x, transpose(weight, 0, 1));
  if (bias.defined()) y = add(y, bias);
  return set_name(y, path().empty() ? "linear" : path());
}

Embedding::Embedding(int64_t vocab, int64_t dim, Generator& gen, double std, DType dtype) {
  if (vocab <= 0 || dim <= 0) fail("Embedding", "sizes must be positive, got vocab = ", vocab, ", dim = ", dim);
  weight = register_parameter("weight", init::normal({vocab, dim}, std, gen, dtype));
}

Tensor Embedding::forward(const Tensor& idx) const {
  NameScope scope(path());
  // Indices follow the weight's device: token batches and positions are made on the CPU.
  return set_name(embedding(weight, op::to(idx, weight.device())), path().empty() ? "embedding" : path());
}

LayerNorm::LayerNorm(int64_t dim, double eps_, DType dtype) : eps(eps_) {
  weight = register_parameter("weight", ones({dim}, dtype));
  bias = register_parameter("bias", zeros({dim}, dtype));
}

Tensor LayerNorm::forward(const Tensor& x) const {
  NameScope scope(path());
  return set_name(layer_norm(x, weight, bias, eps), path().empty() ? "layer_norm" : path());
}

RMSNorm::RMSNorm(int64_t dim, double eps_, DType dtype) : eps(eps_) {
  weight = register_parameter("weight", ones({dim}, dtype));
}

Tensor RMSNorm::forward(const Tensor& x) const {
  NameScope scope(path());
  return set_name(rms_norm(x, weight, eps), path().empty() ? "rms_norm" : path());
}

Dropout::Dropout(double p_, uint64_t seed) : p(p_), gen(seed) {
  if (!(p >= 0 && p < 1)) fail("Dropout", "p must be in [0, 1), got ", p);
}

Tensor Dropout::forward(const Tensor& x) {
  if (!is_training() || p == 0) return x;
  // keep-mask scaled by 1/(1-p): a constant, so the vjp of mul routes g * mask back to x
  Tensor keep = op::to(op::gt(uniform(x.shape(), gen, 0, 1, x.dtype()), p), x.device());
  NameScope scope(path());
  return set_name(mul(x, op::mul(keep, 1.0 / (1.0 - p))), path().empty() ? "dropout" : path());
}

MLP::MLP(int64_t dim, int64_t hidden, Generator& gen, DType dtype) {
  fc1 = register_module("fc1", std::make_shared<Linear>(dim, hidden, gen, true, dtype));
  fc2 = register_module("fc2", std::make_shared<Linear>(hidden, dim, gen, true, dtype));
}

Tensor MLP::forward(const Tensor& x) const {
  Tensor a = fc1->forward(x);  // children open their own scopes: call them outside ours
  Tensor h;
  {
    NameScope scope(path());
    h = set_name(gelu(a), node_name("gelu"));
  }
  return fc2->forward(h);
}

}  // namespace gs::nn
