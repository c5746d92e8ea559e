#pragma once
// Internal to tokenizer/gpt2*.cpp: reading and checking GPT-2's encoder.json and vocab.bpe, and
// the byte-to-unicode map those files are written in.
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gs::tok::detail {

// bytes_to_unicode() of encoder.py: the 188 printable bytes ('!'..'~', U+00A1..U+00AC,
// U+00AE..U+00FF) stand for themselves; the other 68, in increasing order, for U+0100, U+0101, ...
// so that no symbol in the files contains whitespace or a control character.
std::array<char32_t, 256> byte_to_unicode();

struct Gpt2Files {
  std::vector<std::pair<std::string, int64_t>> encoder;      // raw-byte symbol, id (file order)
  std::vector<std::pair<std::string, std::string>> merges;  // raw-byte pairs, rank = index
};

// Reads dir/encoder.json and dir/vocab.bpe, checks their SHA-256 against the published files and
// converts their symbols to raw bytes. Throws Error naming the file.
Gpt2Files load_gpt2_files(const std::string& dir);
// The parse alone, on the two files' contents (the paths only name them in errors): what
// load_gpt2_files does after the hashes match. Throws Error naming the file at the first fault.
Gpt2Files parse_gpt2_files(const std::string& enc_text, const std::string& bpe_text, const std::string& enc_path,
                           const std::string& bpe_path);

// A flat JSON object of string keys and integer values, as encoder.json is ({"!": 0, ...}).
// Throws Error("<what>: ...") at the first byte that does not fit that shape.
std::vector<std::pair<std::string, int64_t>> parse_string_int_object(const std::string& json, const std::string& what);

}  // namespace gs::tok::detail
