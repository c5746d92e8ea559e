#pragma once
// The small GPT that bench_gpt_step (CPU, against PyTorch) and bench_cuda (GPU) both time:
// 4 layers, d_model 256, 4 heads, MLP 4x, context = T = 128, vocab 8192, batch 16, float32,
// untied full head. One definition so the two benchmarks cannot drift apart. The "gpt2vocab"
// configuration (GS_BENCH_CONFIG=gpt2vocab) is the same model with GPT-2's 50,257-token vocabulary.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "nn/lm.h"

namespace gs::bench {

inline constexpr int64_t kGptBatch = 16, kGptContext = 128;

inline nn::LMConfig small_gpt_config() {
  nn::LMConfig cfg;
  cfg.backbone = nn::BackboneKind::transformer;
  cfg.head = nn::HeadKind::full;
  cfg.vocab = 8192;
  cfg.d_model = 256;
  cfg.n_layer = 4;
  cfg.n_head = 4;
  cfg.context = kGptContext;
  cfg.mlp_ratio = 4;
  cfg.dtype = kFloat32;
  cfg.seed = 0;
  return cfg;
}

// The model of GS_BENCH_CONFIG: "small" (default) or "gpt2vocab"; anything else throws.
inline nn::LMConfig gpt_config_named(const std::string& name) {
  nn::LMConfig cfg = small_gpt_config();
  if (name == "gpt2vocab") cfg.vocab = 50257;
  else if (name != "small") throw std::invalid_argument("GS_BENCH_CONFIG: '" + name + "' is not small or gpt2vocab");
  return cfg;
}

}  // namespace gs::bench
