#pragma once
// GPT-2's pre-tokenisation, written out by hand. The pattern (OpenAI's encoder.py, and the npm
// package gpt-3-encoder that is our oracle, which runs it as a JavaScript regex with the u flag):
//
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// Alternatives are tried in that order at each position and the text is consumed left to right
// with no gaps (every character is a letter, a number, a space or something else). Character
// classes are JavaScript's (tokenizer/unicode_tables.h). The one subtle alternative is
// \s+(?!\S): the regex backtracks from a whitespace run that is followed by a non-space character,
// so a run of k >= 2 whitespace characters before a word gives a piece of k - 1 characters and
// leaves the last one to start the next piece (" word" when it is a plain space).
//
// Invalid UTF-8: each byte that does not belong to a valid sequence is one character of class
// "other", kept as the byte it is. (The npm package reads text as a JavaScript string, where such
// bytes have already become U+FFFD, also an "other" character; the pieces have the same shape but
// ours keep the original bytes, so decode(encode(x)) == x for any bytes.)
#include <cstddef>
#include <string_view>

namespace gs::tok {

// End (byte offset, > pos) of the piece that starts at byte offset pos < text.size().
size_t gpt2_piece_end(std::string_view text, size_t pos);

// Calls f(piece) for each piece of text, in order; the pieces concatenate to text.
template <class F>
void gpt2_pretokenize(std::string_view text, F&& f) {
  for (size_t p = 0; p < text.size();) {
    const size_t e = gpt2_piece_end(text, p);
    f(text.substr(p, e - p));
    p = e;
  }
}

}  // namespace gs::tok
