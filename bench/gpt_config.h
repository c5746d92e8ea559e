#pragma once
// The small GPT that bench_gpt_step (CPU, against PyTorch) and bench_cuda (GPU) both time:
// 4 layers, d_model 256, 4 heads, MLP 4x, context = T = 128, vocab 8192, batch 16, float32,
// untied full head. One definition so the two benchmarks cannot drift apart.
#include <cstdint>

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

}  // namespace gs::bench
