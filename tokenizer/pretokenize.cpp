#include "tokenizer/pretokenize.h"

#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

namespace gs::tok {
namespace {

struct Char {
  CharClass cls;
  int len;
};

Char char_at(std::string_view text, size_t pos) {
  const unsigned char b = static_cast<unsigned char>(text[pos]);
  if (b < 0x80) return {char_class(b), 1};
  const Utf8Char c = utf8_next(text, pos);
  return {char_class(c.cp), c.len};  // an invalid byte: Other, length 1
}

// End of the run of class `cls` that starts at pos (text[pos] is of that class).
size_t run_end(std::string_view text, size_t pos, CharClass cls) {
  while (pos < text.size()) {
    const Char c = char_at(text, pos);
    if (c.cls != cls) break;
    pos += c.len;
  }
  return pos;
}

// 's 't 'm 'd 're 've 'll: the contractions, lower case only, as in the pattern.
size_t contraction_end(std::string_view text, size_t pos) {
  if (text[pos] != '\'' || pos + 1 >= text.size()) return 0;
  const char a = text[pos + 1];
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return pos + 2;
  if (pos + 2 >= text.size()) return 0;
  const char b = text[pos + 2];
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return pos + 3;
  return 0;
}

}  // namespace

size_t gpt2_piece_end(std::string_view text, size_t pos) {
  if (const size_t e = contraction_end(text, pos)) return e;
  // " ?\p{L}+ | ?\p{N}+ | ?[^\s\p{L}\p{N}]+": an optional ASCII space, then a run of one
  // non-space class. Without the space the run must start at pos, and a space is not in any of
  // the three classes, so "the class of the first character after the optional space" decides.
  const size_t q = text[pos] == ' ' ? pos + 1 : pos;
  if (q < text.size()) {
    const Char c = char_at(text, q);
    if (c.cls != CharClass::Space) return run_end(text, q + c.len, c.cls);
  }
  // text[pos] starts a whitespace run (a lone ' ' at the end, or ' ' before more whitespace,
  // falls through to here too). \s+(?!\S): the longest prefix of the run followed by whitespace
  // or the end of the text; \s+ when that is empty (a single whitespace character before a
  // non-space one).
  size_t last = pos, e = pos;
  int count = 0;
  while (e < text.size()) {
    const Char c = char_at(text, e);
    if (c.cls != CharClass::Space) break;
    last = e;
    e += c.len;
    ++count;
  }
  if (e == text.size() || count < 2) return e;
  return last;
}

}  // namespace gs::tok
