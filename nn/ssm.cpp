#include "nn/ssm.h"

#include <vector>

#include "autograd/ops.h"
#include "tensor/ops.h"

namespace gs::nn {

SSMLayer::SSMLayer(int64_t d, Generator& gen, DType dtype) {
  if (d <= 0) fail("SSMLayer", "d_model must be positive, got ", d);
  norm = register_module("norm", std::make_shared<RMSNorm>(d, 1e-6, dtype));
  a = register_module("a", std::make_shared<Linear>(d, d, gen, true, dtype));
  in = register_module("in", std::make_shared<Linear>(d, d, gen, false, dtype));
  g = register_module("g", std::make_shared<Linear>(d, d, gen, false, dtype));
  out = register_module("out", std::make_shared<Linear>(d, d, gen, false, dtype));
  NoGradGuard no_grad;
  op::copy_(a->bias, full({d}, 1.0, dtype));  // start with memory: sigmoid(1) ~ 0.73
}

Tensor SSMLayer::forward(const Tensor& x) const {
  if (x.dim() != 3) fail(node_name("SSMLayer"), "input ", shape_str(x.shape()), " is not [B, T, D]");
  const int64_t T = x.size(1);
  const Tensor u = norm->forward(x);
  const Tensor a_lin = a->forward(u), c = in->forward(u), g_lin = g->forward(u);
  Tensor mixed;
  {
    NameScope scope(path());
    const Tensor decay = set_name(sigmoid(a_lin), node_name("decay"));  // a_t  [B, T, D]
    const Tensor drive = set_name(mul(1.0 - decay, c), node_name("drive"));  // (1 - a_t) c_t
    std::vector<Tensor> hs;
    hs.reserve(static_cast<size_t>(T));
    Tensor h;
    for (int64_t t = 0; t < T; ++t) {
      const Tensor d_t = time_step(drive, t);
      h = t == 0 ? d_t : add(mul(time_step(decay, t), h), d_t);  // h_0 = 0
      hs.push_back(h);
    }
    const Tensor states = set_name(stack_time(hs), node_name("state"));
    mixed = set_name(mul(states, silu(g_lin)), node_name("gated"));
  }
  const Tensor y = out->forward(mixed);
  NameScope scope(path());
  return set_name(add(x, y), path().empty() ? "ssm_layer" : path());
}

SSM::SSM(const BackboneConfig& cfg, Generator& gen) : cfg_(cfg) {
  if (cfg.vocab <= 0 || cfg.d_model <= 0 || cfg.n_layer < 0)
    fail("SSM", "vocab and d_model must be positive and n_layer >= 0, got vocab = ", cfg.vocab,
         ", d_model = ", cfg.d_model, ", n_layer = ", cfg.n_layer);
  wte = register_module("wte", std::make_shared<Embedding>(cfg.vocab, cfg.d_model, gen, 0.02, cfg.dtype));
  layers = register_module("layers", std::make_shared<ModuleList<SSMLayer>>());
  for (int64_t l = 0; l < cfg.n_layer; ++l) layers->append(std::make_shared<SSMLayer>(cfg.d_model, gen, cfg.dtype));
  ln_f = register_module("ln_f", std::make_shared<LayerNorm>(cfg.d_model, 1e-5, cfg.dtype));
}

Tensor SSM::forward(const Tensor& tokens) const {
  check_tokens(tokens);
  Tensor x = wte->forward(tokens);
  for (const auto& layer : *layers) x = layer->forward(x);
  return ln_f->forward(x);
}

}  // namespace gs::nn
