#include "nn/transformer.h"

#include "autograd/ops.h"
#include "tensor/ops.h"

namespace gs::nn {

Block::Block(int64_t d, int64_t n_head, int64_t mlp_hidden, Generator& gen, DType dtype) {
  ln1 = register_module("ln1", std::make_shared<LayerNorm>(d, 1e-5, dtype));
  attn = register_module("attn", std::make_shared<CausalSelfAttention>(d, n_head, gen, dtype));
  ln2 = register_module("ln2", std::make_shared<LayerNorm>(d, 1e-5, dtype));
  mlp = register_module("mlp", std::make_shared<MLP>(d, mlp_hidden, gen, dtype));
}

Tensor Block::forward(const Tensor& x) const {
  // child forwards run outside this module's NameScope: each opens its own full-path scope
  const Tensor a = attn->forward(ln1->forward(x));
  Tensor h;
  {
    NameScope scope(path());
    h = set_name(add(x, a), node_name("resid_attn"));
  }
  const Tensor m = mlp->forward(ln2->forward(h));
  NameScope scope(path());
  return set_name(add(h, m), path().empty() ? "block" : path());
}

Transformer::Transformer(const BackboneConfig& cfg, Generator& gen) : cfg_(cfg) {
  if (cfg.vocab <= 0 || cfg.d_model <= 0 || cfg.n_layer < 0 || cfg.context <= 0 || cfg.mlp_ratio <= 0)
    fail("Transformer", "vocab, d_model, context and mlp_ratio must be positive and n_layer >= 0, got vocab = ",
         cfg.vocab, ", d_model = ", cfg.d_model, ", n_layer = ", cfg.n_layer, ", context = ", cfg.context,
         ", mlp_ratio = ", cfg.mlp_ratio);
  wte = register_module("wte", std::make_shared<Embedding>(cfg.vocab, cfg.d_model, gen, 0.02, cfg.dtype));
  wpe = register_module("wpe", std::make_shared<Embedding>(cfg.context, cfg.d_model, gen, 0.02, cfg.dtype));
  blocks = register_module("blocks", std::make_shared<ModuleList<Block>>());
  for (int64_t i = 0; i < cfg.n_layer; ++i)
    blocks->append(std::make_shared<Block>(cfg.d_model, cfg.n_head, cfg.mlp_ratio * cfg.d_model, gen, cfg.dtype));
  ln_f = register_module("ln_f", std::make_shared<LayerNorm>(cfg.d_model, 1e-5, cfg.dtype));
}

Tensor Transformer::forward(const Tensor& tokens) const {
  validate_input(tokens);
  const int64_t T = tokens.size(1);
  const Tensor tok = wte->forward(tokens);  // [B, T, D]
  const Tensor pos = wpe->forward(arange(T));  // [T, D]
  Tensor x;
  {
    NameScope scope(path());
    x = set_name(add(tok, pos), node_name("embed"));
  }
  for (const auto& b : *blocks) x = b->forward(x);
  return ln_f->forward(x);
}

}  // namespace gs::nn
