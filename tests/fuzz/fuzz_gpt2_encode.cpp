// libFuzzer harness: GPT-2's encode() on arbitrary bytes, with the real vocabulary (fetched by
// scripts/setup; without it the harness says so and exits). Properties: every id is in
// [0, 50257), and decode(encode(x)) == x for any bytes (invalid UTF-8 is kept as byte symbols).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "tokenizer/tokenizer.h"

namespace {
const gs::tok::Tokenizer& tokenizer() {
  static const std::shared_ptr<const gs::tok::Tokenizer> t = [] {
    try {
      return gs::tok::make_tokenizer("gpt2");
    } catch (const gs::tok::Error& e) {
      std::fprintf(stderr, "fuzz_gpt2_encode: %s\n", e.what());
      std::exit(1);
    }
  }();
  return *t;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto ids = tokenizer().encode(text);
  for (int64_t id : ids)
    if (id < 0 || id >= tokenizer().vocab_size()) std::abort();
  if (tokenizer().decode(ids) != text) std::abort();
  return 0;
}
