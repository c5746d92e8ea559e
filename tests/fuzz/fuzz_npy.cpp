// libFuzzer harness: nn::load_npy on arbitrary bytes. Every input must either load or throw
// gs::Error (a message); anything else (a crash, a sanitizer report, another exception type, a
// hang, an allocation beyond -rss_limit_mb) is a finding. A loaded tensor must hold exactly what
// its header declares.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "nn/npy.h"
#include "tensor/error.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static gs::fuzz::InputFile file;
  const std::string& path = file.hold(data, size);
  try {
    const gs::Tensor t = gs::nn::load_npy(path);
    // the data section is exactly numel * itemsize bytes of the input (no extra, none missing)
    if (static_cast<size_t>(t.numel()) * gs::dtype_size(t.dtype()) > size) std::abort();
  } catch (const gs::Error&) {
  }
  return 0;
}
