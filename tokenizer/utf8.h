#pragma once
// Strict UTF-8 decoding for the tokenizers (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF). Invalid input is not an error here: the caller decides what a bad byte means.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gs::tok {

// The code point starting at text[pos] and its length in bytes. An invalid or truncated
// sequence gives {kInvalidCodePoint, 1}: one bad byte, and decoding resumes at the next byte.
struct Utf8Char {
  char32_t cp;
  int len;
};
inline constexpr char32_t kInvalidCodePoint = 0xFFFFFFFF;
Utf8Char utf8_next(std::string_view text, size_t pos);

// True when every byte of text belongs to a valid UTF-8 sequence.
bool utf8_valid(std::string_view text);

}  // namespace gs::tok
