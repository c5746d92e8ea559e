// The tokenizer layer: SHA-256, UTF-8, the character classes, GPT-2's pre-tokenisation and BPE
// against the oracle's own ids (tests/golden/gpt2_tokens/, made by running the npm package
// gpt-3-encoder@1.1.4 under node: scripts/golden/make_gpt2_tokens.js), round trips and errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "nn/data.h"
#include "temp_dir.h"
#include "tokenizer/gpt2.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/sha256.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

using namespace gs;
using namespace gs::tok;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json golden(const std::string& name) {
  return nlohmann::json::parse(read_file(std::string(GS_TEST_DATA_DIR) + "/golden/gpt2_tokens/" + name));
}

// GPT-2's files are fetched by scripts/setup (the README's test command runs it); a missing file
// fails here with the loader's message, which says how to get it.
const Gpt2Tokenizer& gpt2() {
  static const Gpt2Tokenizer t(gpt2_data_dir());
  return t;
}

std::vector<std::string> pieces(std::string_view text) {
  std::vector<std::string> out;
  gpt2_pretokenize(text, [&](std::string_view p) { out.emplace_back(p); });
  return out;
}

std::string join_ids(const std::vector<int64_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(ids[i]);
  }
  return s;
}

}  // namespace

TEST_CASE("sha256 matches the FIPS 180-4 examples, one- and two-block padding", "[tokenizer]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 56 bytes: the length no longer fits in the first padding block
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("utf8_next decodes strictly and reports one bad byte at a time", "[tokenizer]") {
  CHECK(utf8_next("A", 0).cp == U'A');
  CHECK(utf8_next("\xC3\xA9", 0).cp == 0xE9);
  CHECK(utf8_next("\xC3\xA9", 0).len == 2);
  CHECK(utf8_next("\xF0\x9F\x98\x80", 0).cp == 0x1F600);
  for (const char* bad : {"\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF", "\x80", "\xE2\x82", "\xC3("}) {
    INFO(bad);
    const Utf8Char c = utf8_next(bad, 0);
    CHECK(c.cp == kInvalidCodePoint);
    CHECK(c.len == 1);
  }
  CHECK(utf8_valid("h\xC3\xA9llo \xE4\xB8\xAD"));
  CHECK_FALSE(utf8_valid("caf\xE9"));
}

TEST_CASE("char_class follows JavaScript's \\p{L}, \\p{N} and \\s", "[tokenizer]") {
  CHECK(char_class(U'a') == CharClass::Letter);
  CHECK(char_class(0x4E2D) == CharClass::Letter);   // CJK
  CHECK(char_class(0x0928) == CharClass::Letter);   // Devanagari NA
  CHECK(char_class(0x094D) == CharClass::Other);    // Devanagari virama: Mn, not a letter
  CHECK(char_class(0x0301) == CharClass::Other);    // combining acute: Mn
  CHECK(char_class(U'7') == CharClass::Number);
  CHECK(char_class(0x2167) == CharClass::Number);   // Roman numeral eight: Nl
  CHECK(char_class(0x00BD) == CharClass::Number);   // one half: No
  CHECK(char_class(0x0663) == CharClass::Number);   // Arabic-Indic three: Nd
  for (char32_t s : {U'\t', U'\n', U'\v', U'\f', U'\r', U' ', char32_t{0xA0}, char32_t{0x2028}, char32_t{0x3000},
                     char32_t{0xFEFF}})
    CHECK(char_class(s) == CharClass::Space);
  CHECK(char_class(0x200B) == CharClass::Other);  // zero-width space is Cf, not \s
  CHECK(char_class(0x180E) == CharClass::Other);  // Mongolian vowel separator left Zs in Unicode 6.3
  CHECK(char_class(0x1F600) == CharClass::Other);
  CHECK(char_class(kInvalidCodePoint) == CharClass::Other);
}

TEST_CASE("pre-tokenisation: the pattern's alternatives, worked by hand", "[tokenizer]") {
  using V = std::vector<std::string>;
  CHECK(pieces("Hello world") == V{"Hello", " world"});
  // a run of k spaces before a word: k - 1 spaces, then " word" (\s+(?!\S) backtracks)
  CHECK(pieces("a   b") == V{"a", "  ", " b"});
  // one newline before a word cannot be shortened: \s+ takes it whole
  CHECK(pieces("x\nword") == V{"x", "\n", "word"});
  CHECK(pieces("x \n\n y") == V{"x", " \n\n", " y"});
  CHECK(pieces("end  ") == V{"end", "  "});  // whitespace at the end: taken whole
  CHECK(pieces("I'm can't") == V{"I", "'m", " can", "'t"});
  CHECK(pieces("'LL 'll") == V{"'", "LL", " '", "ll"});  // upper case is no contraction
  CHECK(pieces("x2y 42") == V{"x", "2", "y", " 42"});
  CHECK(pieces("hi!!! ...") == V{"hi", "!!!", " ..."});
  CHECK(pieces("a\xC2\xA0" "b") == V{"a", "\xC2\xA0", "b"});  // NBSP is \s but not the optional ' '
  CHECK(pieces("caf\xE9 ok") == V{"caf", "\xE9", " ok"});    // an invalid byte is an "other" character
  CHECK(pieces("").empty());
}

TEST_CASE("pre-tokenisation covers any bytes without gaps", "[tokenizer]") {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    std::string s(static_cast<size_t>(rng() % 64), '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    std::string joined;
    size_t count = 0;
    gpt2_pretokenize(s, [&](std::string_view p) {
      CHECK_FALSE(p.empty());
      joined += p;
      ++count;
    });
    CHECK(joined == s);
  }
}

TEST_CASE("gpt2 tokenizer: the oracle's ids on every edge case", "[tokenizer][gpt2]") {
  const nlohmann::json g = golden("edge.json");
  REQUIRE(g["cases"].size() > 300);
  for (const auto& c : g["cases"]) {
    const std::string text = c["text"].get<std::string>();
    INFO("text: " << nlohmann::json(text).dump());
    CHECK(gpt2().encode(text) == c["ids"].get<std::vector<int64_t>>());
    CHECK(gpt2().decode(c["ids"].get<std::vector<int64_t>>()) == text);
  }
}

TEST_CASE("gpt2 tokenizer: the oracle's ids on every Debian fortunes file", "[tokenizer][gpt2]") {
  const nlohmann::json g = golden("fortunes.json");
  const std::vector<std::string> files = nn::default_corpus_files();
  REQUIRE(files.size() == g["files"].size());
  int64_t total = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& f = g["files"][i];
    INFO("fortunes file " << files[i]);
    REQUIRE(std::filesystem::path(files[i]).filename() == f["name"].get<std::string>());
    const std::string text = read_file(files[i]);
    // The input first: a different fortunes package would make a mismatch below meaningless.
    REQUIRE(sha256_hex(text) == f["sha256"].get<std::string>());
    const std::vector<int64_t> ids = gpt2().encode(text);
    CHECK(static_cast<int64_t>(ids.size()) == f["tokens"].get<int64_t>());
    const auto first = f["first_ids"].get<std::vector<int64_t>>();
    CHECK(std::vector<int64_t>(ids.begin(), ids.begin() + std::min(ids.size(), first.size())) == first);
    CHECK(sha256_hex(join_ids(ids)) == f["ids_sha256"].get<std::string>());
    CHECK(gpt2().decode(ids) == text);
    total += static_cast<int64_t>(ids.size());
  }
  CHECK(total > 500000);  // the whole corpus went through, not a sample
}

TEST_CASE("gpt2 tokenizer: invalid UTF-8 is kept byte for byte", "[tokenizer][gpt2]") {
  // Each invalid byte is an "other" character: "caf\xE9" splits into "caf" and "\xE9", and the
  // byte 0xE9 is its own symbol (encoder.json spells it U+00E9).
  std::vector<int64_t> expected = gpt2().encode("caf");
  const std::vector<int64_t> byte = gpt2().bpe("\xE9");
  REQUIRE(byte.size() == 1);
  expected.push_back(byte[0]);
  CHECK(gpt2().encode("caf\xE9") == expected);
  CHECK(gpt2().decode(gpt2().bpe("\xE9")) == "\xE9");
  std::mt19937 rng(11);
  for (int trial = 0; trial < 100; ++trial) {
    std::string s(static_cast<size_t>(rng() % 200), '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    CHECK(gpt2().decode(gpt2().encode(s)) == s);
  }
}

TEST_CASE("gpt2 tokenizer: one id per byte for every single byte, and the vocabulary size", "[tokenizer][gpt2]") {
  CHECK(gpt2().vocab_size() == 50257);
  std::vector<bool> seen(50257, false);
  for (int b = 0; b < 256; ++b) {
    const std::vector<int64_t> ids = gpt2().bpe(std::string(1, static_cast<char>(b)));
    REQUIRE(ids.size() == 1);
    CHECK_FALSE(seen[ids[0]]);
    seen[ids[0]] = true;
  }
  CHECK(gpt2().encode("<|endoftext|>").size() > 1);  // the special token is not parsed from text
  CHECK(gpt2().decode({50256}) == "<|endoftext|>");
}

TEST_CASE("tokenizer errors name the tokenizer, the file and the remedy", "[tokenizer]") {
  CHECK_THROWS_WITH(make_tokenizer("bpe"), "unknown tokenizer 'bpe' (valid: byte, gpt2)");
  CHECK_THROWS_WITH(ByteTokenizer().decode({65, 256}),
                    "byte tokenizer: token id 256 out of range [0, 256) (position 1)");
  CHECK_THROWS_WITH(gpt2().decode({0, -1}), "gpt2 tokenizer: token id -1 out of range [0, 50257) (position 1)");
  CHECK(ByteTokenizer().decode(ByteTokenizer().encode(std::string("\0\xFF" "a", 3))) == std::string("\0\xFF" "a", 3));

  testing::TempDir dir("gs_tok_test_");
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(Gpt2Tokenizer(dir.dir.string()),
                    Contains(dir / "encoder.json") && Contains("cannot be read") && Contains("scripts/setup"));
  // A corrupt copy: one byte changed in encoder.json.
  std::string enc = read_file(gpt2_data_dir() + "/encoder.json");
  enc[100] = enc[100] == '1' ? '2' : '1';
  std::ofstream(dir / "encoder.json", std::ios::binary) << enc;
  std::ofstream(dir / "vocab.bpe", std::ios::binary) << read_file(gpt2_data_dir() + "/vocab.bpe");
  CHECK_THROWS_WITH(Gpt2Tokenizer(dir.dir.string()),
                    Contains(dir / "encoder.json") && Contains("SHA-256") && Contains("scripts/setup"));
}
