#pragma once
// The safetensors file format (https://github.com/huggingface/safetensors), read and written
// without the Python package:
//
//   u64 (little-endian)  N, the header length in bytes
//   N bytes              UTF-8 JSON object:
//                          {"__metadata__": {"key": "value", ...},          (optional)
//                           "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]}, ...}
//   the data section     raw little-endian tensors, row-major; [b, e) is relative to its start
//
// gradscope reads and writes F32, F64 and I64. Writes are atomic: the bytes go to a temp file in
// the same folder, which is fsynced and renamed over the target (then the folder is fsynced), so
// a crash or error mid-save leaves the previous file as it was. Loads check everything the spec
// requires (header length vs file size, JSON, dtypes, shapes vs offsets, offsets in range, no
// overlaps, no holes in the data section, string metadata) and throw gs::Error("<path>: ...").
#include <cstdint>
#include <map>
#include <string>

#include "nn/module.h"  // NamedTensors
#include "tensor/tensor.h"

namespace gs::nn {

// Headers above this size are rejected as corrupt (real headers are kilobytes).
inline constexpr uint64_t kMaxSafetensorsHeader = 100ull << 20;

struct SafetensorsContents {
  std::map<std::string, Tensor> tensors;  // fresh contiguous CPU tensors
  std::map<std::string, std::string> metadata;
};

// Writes the tensors in the given order (any device, any strides; copied to CPU one at a time).
// Names must be unique, non-empty and not "__metadata__"; tensors must be defined.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

SafetensorsContents load_safetensors(const std::string& path);

}  // namespace gs::nn
