#include "tokenizer/tokenizer.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>

#include "tokenizer/gpt2.h"

namespace gs::tok {

std::vector<int64_t> ByteTokenizer::encode(std::string_view text) const {
  std::vector<int64_t> ids(text.size());
  for (size_t i = 0; i < text.size(); ++i) ids[i] = static_cast<unsigned char>(text[i]);
  return ids;
}

std::string ByteTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out(ids.size(), '\0');
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= kVocabSize)
      throw Error("byte tokenizer: token id " + std::to_string(ids[i]) + " out of range [0, 256) (position " +
                                  std::to_string(i) + ")");
    out[i] = static_cast<char>(ids[i]);
  }
  return out;
}

const char* tokenizer_names() { return "byte, gpt2"; }

bool is_tokenizer_name(const std::string& name) { return name == "byte" || name == "gpt2"; }

std::string gpt2_data_dir() {
  if (const char* d = std::getenv("GRADSCOPE_GPT2_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/gradscope/gpt2";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.cache/gradscope/gpt2";
}

std::shared_ptr<const Tokenizer> make_tokenizer(const std::string& name) {
  if (!is_tokenizer_name(name)) throw Error("unknown tokenizer '" + name + "' (valid: " + tokenizer_names() + ")");
  if (name == "byte") return std::make_shared<ByteTokenizer>();
  if (name == "gpt2") {
    // Loading GPT-2's files (parse, hash, 50k merges) takes a fraction of a second; a process
    // that asks several times gets the same instance per folder.
    static std::mutex m;
    static std::map<std::string, std::shared_ptr<const Tokenizer>> loaded;
    const std::string dir = gpt2_data_dir();
    std::lock_guard<std::mutex> lock(m);
    auto& slot = loaded[dir];
    if (!slot) slot = std::make_shared<Gpt2Tokenizer>(dir);
    return slot;
  }
  throw Error("make_tokenizer: '" + name + "' is a tokenizer name without a constructor here");
}

}  // namespace gs::tok
