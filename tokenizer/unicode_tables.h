#pragma once
// Character classes of GPT-2's pre-tokenisation pattern, as JavaScript defines them (the table in
// unicode_tables.cpp is generated from node by scripts/gen_unicode_tables.js).
#include <cstddef>

namespace gs::tok {

enum class CharClass : unsigned char { Letter, Number, Space, Other };

// \p{L} -> Letter, \p{N} -> Number, JavaScript's \s -> Space, anything else (including an
// invalid byte, passed as kInvalidCodePoint) -> Other.
CharClass char_class(char32_t cp);

namespace detail {
struct CodeRange {
  char32_t lo, hi;  // inclusive
};
extern const CodeRange kLetterRanges[];
extern const std::size_t kLetterRangeCount;
extern const CodeRange kNumberRanges[];
extern const std::size_t kNumberRangeCount;
extern const CodeRange kSpaceRanges[];
extern const std::size_t kSpaceRangeCount;
}  // namespace detail

}  // namespace gs::tok
