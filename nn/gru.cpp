#include "nn/gru.h"

#include <vector>

#include "autograd/ops.h"
#include "tensor/ops.h"

namespace gs::nn {

GRULayer::GRULayer(int64_t d_in, int64_t d_h, Generator& gen, DType dtype) : d_hidden(d_h) {
  if (d_in <= 0 || d_h <= 0) fail("GRULayer", "sizes must be positive, got d_in = ", d_in, ", d_hidden = ", d_h);
  ih = register_module("ih", std::make_shared<Linear>(d_in, 3 * d_h, gen, true, dtype));
  hh = register_module("hh", std::make_shared<Linear>(d_h, 3 * d_h, gen, true, dtype));
}

Tensor GRULayer::forward(const Tensor& x) const {
  if (x.dim() != 3) fail(node_name("GRULayer"), "input ", shape_str(x.shape()), " is not [B, T, D]");
  const int64_t B = x.size(0), T = x.size(1), H = d_hidden;
  const Tensor gi = ih->forward(x);  // [B, T, 3H]: the input half of every gate, all steps at once
  Tensor h = zeros({B, H}, x.dtype(), x.device());
  std::vector<Tensor> outs;
  outs.reserve(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) {
    const Tensor gh = hh->forward(h);  // [B, 3H]
    NameScope scope(path());
    const auto i = split(time_step(gi, t), {H, H, H}, 1);
    const auto g = split(gh, {H, H, H}, 1);
    const Tensor r = sigmoid(add(i[0], g[0]));
    const Tensor z = sigmoid(add(i[1], g[1]));
    const Tensor n = tanh(add(i[2], mul(r, g[2])));
    h = set_name(add(n, mul(z, sub(h, n))), node_name("h"));
    outs.push_back(h);
  }
  NameScope scope(path());
  return set_name(stack_time(outs), path().empty() ? "gru_layer" : path());
}

GRU::GRU(const BackboneConfig& cfg, Generator& gen) : cfg_(cfg) {
  if (cfg.vocab <= 0 || cfg.d_model <= 0 || cfg.n_layer < 0)
    fail("GRU", "vocab and d_model must be positive and n_layer >= 0, got vocab = ", cfg.vocab,
         ", d_model = ", cfg.d_model, ", n_layer = ", cfg.n_layer);
  wte = register_module("wte", std::make_shared<Embedding>(cfg.vocab, cfg.d_model, gen, 0.02, cfg.dtype));
  layers = register_module("layers", std::make_shared<ModuleList<GRULayer>>());
  for (int64_t l = 0; l < cfg.n_layer; ++l)
    layers->append(std::make_shared<GRULayer>(cfg.d_model, cfg.d_model, gen, cfg.dtype));
  if (cfg.final_norm) ln_f = register_module("ln_f", std::make_shared<LayerNorm>(cfg.d_model, 1e-5, cfg.dtype));
}

Tensor GRU::forward(const Tensor& tokens) const {
  check_tokens(tokens);
  Tensor x = wte->forward(tokens);
  for (const auto& layer : *layers) x = layer->forward(x);
  return ln_f ? ln_f->forward(x) : x;
}

}  // namespace gs::nn
