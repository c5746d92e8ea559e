// libFuzzer harness: a training checkpoint, end to end as `train --resume` and `analyze
// --checkpoint` read it: load_checkpoint (format, metadata, rng state), the model configuration
// (LMConfig::from_map, validate, check_config_fits_tensors), the model built from it,
// load_model_state and the optimiser's load_state. Every step may refuse the input with gs::Error
// (a message naming the file or the field); nothing may crash or throw anything else.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "nn/checkpoint.h"
#include "nn/lm.h"
#include "nn/optim.h"
#include "tensor/error.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static gs::fuzz::InputFile file;
  const std::string& path = file.hold(data, size);
  try {
    const gs::nn::Checkpoint ck = gs::nn::load_checkpoint(path);
    gs::nn::LMConfig cfg = gs::nn::LMConfig::from_map(ck.config, /*strict=*/false);
    cfg.validate();
    gs::nn::check_config_fits_tensors(cfg, ck.model, path);
    // the check above bounds the model by the file's own tensors; a fuzzed file can still hold a
    // few MB of values, and building such a model per execution would slow the campaign down
    if (cfg.parameter_lower_bound() > 2e5) return 0;
    auto model = gs::nn::make_language_model(cfg);
    gs::nn::load_model_state(ck, *model);
    gs::nn::AdamW opt(model->named_parameters(), 1e-3);
    opt.load_state(ck.optim);
  } catch (const gs::Error&) {
  }
  return 0;
}
