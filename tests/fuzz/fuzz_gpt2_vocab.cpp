// libFuzzer harness: the parse of GPT-2's vocabulary files (encoder.json: a flat JSON object of
// string -> integer; vocab.bpe: "#version" then "first second" lines; both spelled in the
// byte-to-unicode map). The real files are SHA-256 checked before parsing, so the fuzzer feeds
// the parse itself (tok::detail::parse_gpt2_files) two arbitrary files, split at the first NUL
// byte of the input (neither real file contains one). Parses or throws tok::Error; a parse has at
// most one encoder entry per ':' and no empty merge half.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tokenizer/gpt2_files.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string all(reinterpret_cast<const char*>(data), size);
  const size_t nul = all.find('\0');
  const std::string enc = all.substr(0, nul), bpe = nul == std::string::npos ? std::string() : all.substr(nul + 1);
  try {
    const gs::tok::detail::Gpt2Files f = gs::tok::detail::parse_gpt2_files(enc, bpe, "encoder.json", "vocab.bpe");
    // an entry per "key": value pair, so never more entries than colons in the text
    if (f.encoder.size() > static_cast<size_t>(std::count(enc.begin(), enc.end(), ':'))) std::abort();
    for (const auto& [a, b] : f.merges)
      if (a.empty() || b.empty()) std::abort();
  } catch (const gs::tok::Error&) {
  }
  return 0;
}
