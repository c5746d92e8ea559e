#include "nn/heads_nonlinear.h"

#include <cmath>

#include "autograd/ops.h"
#include "nn/init.h"

namespace gs::nn {
namespace {

// The output matrix [V, D] of every head here: FullHead's initialisation.
Tensor output_matrix(int64_t d, int64_t v, Generator& gen, DType dtype) {
  return init::kaiming_uniform({v, d}, gen, 1.0 / std::sqrt(3.0), dtype);
}

void check_sizes(const char* head, int64_t d, int64_t v) {
  if (d <= 0 || v <= 0) fail(head, "sizes must be positive, got d_model = ", d, ", vocab = ", v);
}

}  // namespace

MixtureOfSoftmaxesHead::MixtureOfSoftmaxesHead(int64_t d, int64_t v, int64_t k, Generator& gen, DType dtype) {
  check_sizes("MixtureOfSoftmaxesHead", d, v);
  if (k < 1) fail("MixtureOfSoftmaxesHead", "components must be >= 1, got ", k);
  weight = register_parameter("weight", output_matrix(d, v, gen, dtype));
  gate = register_module("gate", std::make_shared<Linear>(d, k, gen, false, dtype));
  for (int64_t i = 0; i < k; ++i)
    proj.push_back(register_module("proj" + std::to_string(i), std::make_shared<Linear>(d, d, gen, true, dtype)));
}

Tensor MixtureOfSoftmaxesHead::forward(const Tensor& h) const {
  check_hidden(h);
  const Tensor pi = softmax(gate->forward(h));  // [N, K]
  std::vector<Tensor> contexts;
  for (const auto& p : proj) contexts.push_back(tanh(p->forward(h)));  // [N, D] each
  NameScope scope(path());
  Tensor mix;
  for (size_t k = 0; k < contexts.size(); ++k) {
    const Tensor pk = softmax(matmul(contexts[k], transpose(weight, 0, 1)));  // [N, V]
    const Tensor term = mul(narrow(pi, -1, static_cast<int64_t>(k), 1), pk);
    mix = mix.defined() ? add(mix, term) : term;
  }
  return set_name(log(mix), node_name("logits"));
}

MlpHead::MlpHead(int64_t d, int64_t v, Generator& gen, DType dtype) {
  check_sizes("MlpHead", d, v);
  proj = register_module("proj", std::make_shared<Linear>(d, d, gen, true, dtype));
  weight = register_parameter("weight", output_matrix(d, v, gen, dtype));
}

Tensor MlpHead::forward(const Tensor& h) const {
  check_hidden(h);
  const Tensor a = gelu(proj->forward(h));
  NameScope scope(path());
  return set_name(matmul(a, transpose(weight, 0, 1)), node_name("logits"));
}

SigsoftmaxHead::SigsoftmaxHead(int64_t d, int64_t v, Generator& gen, DType dtype) {
  check_sizes("SigsoftmaxHead", d, v);
  weight = register_parameter("weight", output_matrix(d, v, gen, dtype));
}

Tensor SigsoftmaxHead::forward(const Tensor& h) const {
  check_hidden(h);
  NameScope scope(path());
  const Tensor u = matmul(h, transpose(weight, 0, 1));
  return set_name(add(u, log(sigmoid(u))), node_name("logits"));
}

}  // namespace gs::nn
