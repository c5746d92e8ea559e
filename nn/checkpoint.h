#pragma once
// Training checkpoints: one safetensors file (nn/safetensors.h) holding
//   tensors   "model.<name>"  every parameter and buffer of the model (Module::state() names)
//             "optim.<name>"  the optimiser state, as named tensors
//   metadata  "format"          "gradscope-checkpoint"
//             "format_version"  "1"
//             "step"            the training step, decimal
//             "rng"             the Generator state (rng_state_to_string)
//             "config.<key>"    the model/run config the caller passes in
// Saves are atomic (the previous file survives any failure). Loads validate the file and the
// metadata; load_model_state() then checks names, shapes and dtypes against the model before
// copying anything, so a failed load leaves the model as it was.
#include <cstdint>
#include <map>
#include <string>

#include "nn/module.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace gs::nn {

inline constexpr int kCheckpointFormatVersion = 1;

struct Checkpoint {
  std::string path;                      // where it was loaded from (error messages)
  std::map<std::string, Tensor> model;   // names without the "model." prefix
  std::map<std::string, Tensor> optim;   // names without the "optim." prefix
  int64_t step = 0;
  Generator::State rng{};
  std::map<std::string, std::string> config;
  int format_version = kCheckpointFormatVersion;
};

void save_checkpoint(const std::string& path, const Module& model, const NamedTensors& optim_state, int64_t step,
                     const Generator& rng, const std::map<std::string, std::string>& config = {});
void save_checkpoint(const std::string& path, const Module& model, const std::map<std::string, Tensor>& optim_state,
                     int64_t step, const Generator& rng, const std::map<std::string, std::string>& config = {});

// Reads and validates a checkpoint (file format, metadata, tensor prefixes). Throws
// gs::Error("<path>: ...").
Checkpoint load_checkpoint(const std::string& path);

// Copies ck.model into the model's parameters and buffers (through Module::load_state). Missing
// or extra tensors (named), shape and dtype mismatches throw gs::Error("<ck.path>: ...") before
// anything is written.
void load_model_state(const Checkpoint& ck, Module& model);

// Generator state as one line of text, bit-exact:
//   "xoshiro256** <s0> <s1> <s2> <s3> <has_cached 0|1> <cached normal as 16 hex digits of its bits>"
std::string rng_state_to_string(const Generator::State& st);
Generator::State rng_state_from_string(const std::string& text);  // throws gs::Error("rng_state: ...")

}  // namespace gs::nn
