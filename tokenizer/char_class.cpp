#include <algorithm>

#include "tokenizer/unicode_tables.h"

namespace gs::tok {
namespace {

bool in_ranges(char32_t cp, const detail::CodeRange* r, std::size_t n) {
  // First range whose upper end is >= cp; cp is in the class when that range starts at or below it.
  const detail::CodeRange* it =
      std::lower_bound(r, r + n, cp, [](const detail::CodeRange& a, char32_t v) { return a.hi < v; });
  return it != r + n && it->lo <= cp;
}

// ASCII answers without a search: nearly every character of English text is ASCII.
struct AsciiTable {
  CharClass cls[128];
  AsciiTable() {
    for (char32_t c = 0; c < 128; ++c) {
      cls[c] = in_ranges(c, detail::kLetterRanges, detail::kLetterRangeCount)   ? CharClass::Letter
               : in_ranges(c, detail::kNumberRanges, detail::kNumberRangeCount) ? CharClass::Number
               : in_ranges(c, detail::kSpaceRanges, detail::kSpaceRangeCount)   ? CharClass::Space
                                                                                : CharClass::Other;
    }
  }
};

}  // namespace

CharClass char_class(char32_t cp) {
  static const AsciiTable ascii;
  if (cp < 128) return ascii.cls[cp];
  if (in_ranges(cp, detail::kLetterRanges, detail::kLetterRangeCount)) return CharClass::Letter;
  if (in_ranges(cp, detail::kNumberRanges, detail::kNumberRangeCount)) return CharClass::Number;
  if (in_ranges(cp, detail::kSpaceRanges, detail::kSpaceRangeCount)) return CharClass::Space;
  return CharClass::Other;  // kInvalidCodePoint (0xFFFFFFFF) lies above every range
}

}  // namespace gs::tok
