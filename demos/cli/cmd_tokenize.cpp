// gradscope tokenize: text -> token ids as one JSON array on stdout, or back (--decode), with the
// byte or GPT-2 tokenizer (tokenizer/tokenizer.h).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "demos/cli/commands.h"
#include "demos/cli/options.h"
#include "nn/file_io.h"
#include "tensor/error.h"
#include "tokenizer/tokenizer.h"

namespace gs::cli {
namespace {

// The whole input as bytes: FILE, or standard input for "-". An empty input is fine (no tokens).
std::string read_input(const std::string& path) {
  if (path.empty()) throw Error("tokenize: give a FILE to read (or - for standard input)");
  if (path == "-") return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  try {
    nn::check_regular_file(path);  // stat() first: a FIFO or device is refused, not read forever
  } catch (const Error& e) {
    throw Error(std::string("tokenize: ") + e.what());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("tokenize: " + path + ": cannot be read");
  std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw Error("tokenize: " + path + ": read error");
  return data;
}

// A JSON array of integers -> ids; anything else is refused with the element's position.
std::vector<int64_t> parse_ids(const std::string& text, const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error("tokenize: " + path + ": not JSON (" + e.what() + ")");
  }
  if (!j.is_array()) throw Error("tokenize: " + path + ": expected a JSON array of token ids");
  std::vector<int64_t> ids;
  ids.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_number_integer())
      throw Error("tokenize: " + path + ": element " + std::to_string(i) + " is not an integer (" + j[i].dump() + ")");
    ids.push_back(j[i].get<int64_t>());
  }
  return ids;
}

}  // namespace

int run_tokenize(const Args& args) {
  Options o("tokenize", "Encode a text file to token ids (one JSON array on stdout), or decode ids back to text.");
  o.positional("file", "the text to encode, or with --decode a JSON array of ids; - reads standard input")
      .add("tokenizer", "byte", std::string("tokenizer: ") + tok::tokenizer_names())
      .flag("decode", "FILE holds a JSON array of ids: write their text (bytes) to stdout");
  if (!o.parse(args)) return 0;
  // The tokenizer first: an unknown name or missing GPT-2 files fail before any input is read.
  const auto tokenizer = tok::make_tokenizer(o.str("tokenizer"));
  const std::string input = read_input(o.str("file"));
  if (o.on("decode")) {
    const std::string text = tokenizer->decode(parse_ids(input, o.str("file")));
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  const std::vector<int64_t> ids = tokenizer->encode(input);
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  out += "]\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace gs::cli
