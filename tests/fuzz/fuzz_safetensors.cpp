// libFuzzer harness: nn::load_safetensors on arbitrary bytes. Loads or throws gs::Error; the
// tensors of a file that loads fit in its bytes (their data sections are disjoint and inside the
// file, which the loader checks).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "nn/safetensors.h"
#include "tensor/error.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static gs::fuzz::InputFile file;
  const std::string& path = file.hold(data, size);
  try {
    const gs::nn::SafetensorsContents c = gs::nn::load_safetensors(path);
    size_t bytes = 0;
    for (const auto& [name, t] : c.tensors) bytes += static_cast<size_t>(t.numel()) * gs::dtype_size(t.dtype());
    if (bytes > size) std::abort();
  } catch (const gs::Error&) {
  }
  return 0;
}
