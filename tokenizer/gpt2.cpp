#include "tokenizer/gpt2.h"

#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "tokenizer/gpt2_files.h"
#include "tokenizer/pretokenize.h"

namespace gs::tok {

Gpt2Tokenizer::Gpt2Tokenizer(const std::string& dir) {
  detail::Gpt2Files files = detail::load_gpt2_files(dir);
  const std::string where = "gpt2 tokenizer: " + dir + "/encoder.json";
  if (static_cast<int64_t>(files.encoder.size()) != kVocabSize)
    throw Error(where + ": " + std::to_string(files.encoder.size()) + " entries, expected " +
                             std::to_string(kVocabSize));
  decoder_.assign(kVocabSize, std::string());
  std::vector<bool> seen(kVocabSize, false);
  for (auto& [sym, id] : files.encoder) {
    if (id < 0 || id >= kVocabSize || seen[id])
      throw Error(where + ": id " + std::to_string(id) + " repeated or out of range");
    seen[id] = true;
    decoder_[id] = sym;
    encoder_.emplace(std::move(sym), id);
  }
  // Keyed by "first,second" like the oracle (see gpt2.h); a later line overwrites an earlier one
  // with the same key, as a JavaScript object assignment would (GPT-2's file has no such pair).
  ranks_.reserve(files.merges.size());
  for (size_t r = 0; r < files.merges.size(); ++r)
    ranks_[files.merges[r].first + ',' + files.merges[r].second] = static_cast<int32_t>(r);
}

std::vector<int64_t> Gpt2Tokenizer::bpe(std::string_view piece) const {
  // Symbols as [begin, end) byte ranges of piece: a merge joins two neighbours into one range, so
  // no string is built per step.
  struct Sym {
    uint32_t b, e;
  };
  std::vector<Sym> word;
  word.reserve(piece.size());
  for (uint32_t i = 0; i < piece.size(); ++i) word.push_back({i, i + 1});
  const auto text = [&](Sym s) { return piece.substr(s.b, s.e - s.b); };
  std::string key;
  const auto rank_of = [&](Sym a, Sym b) -> int32_t {
    key.assign(text(a));
    key += ',';
    key.append(text(b));
    const auto it = ranks_.find(key);
    return it == ranks_.end() ? -1 : it->second;
  };
  // rank[i]: the rank of the pair (word[i], word[i + 1]), -1 when it is no merge. After a merge
  // only the pairs that touch a joined symbol change, so the others keep their rank.
  std::vector<int32_t> rank(word.size() > 1 ? word.size() - 1 : 0);
  for (size_t i = 0; i < rank.size(); ++i) rank[i] = rank_of(word[i], word[i + 1]);
  std::vector<Sym> merged;
  std::vector<int32_t> merged_rank;
  std::vector<size_t> from;  // for each merged symbol: its index in word, or SIZE_MAX when joined
  while (word.size() >= 2) {
    // The lowest-ranked adjacent pair; on equal ranks the later pair, as the oracle's
    // rank-keyed object keeps the last pair it saw (equal ranks mean equal joined strings).
    int32_t best = -1;
    size_t at = 0;
    for (size_t i = 0; i < rank.size(); ++i)
      if (rank[i] >= 0 && (best < 0 || rank[i] <= best)) best = rank[i], at = i;
    if (best < 0) break;
    const std::string_view first = text(word[at]), second = text(word[at + 1]);
    // Join every occurrence of (first, second), scanning left to right without overlap.
    merged.clear();
    from.clear();
    for (size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && text(word[i]) == first && text(word[i + 1]) == second) {
        merged.push_back({word[i].b, word[i + 1].e});
        from.push_back(SIZE_MAX);
        i += 2;
      } else {
        merged.push_back(word[i]);
        from.push_back(i);
        i += 1;
      }
    }
    merged_rank.resize(merged.size() - 1);
    for (size_t k = 0; k + 1 < merged.size(); ++k)
      merged_rank[k] = from[k] != SIZE_MAX && from[k + 1] != SIZE_MAX ? rank[from[k]] : rank_of(merged[k], merged[k + 1]);
    word.swap(merged);
    rank.swap(merged_rank);
  }
  std::vector<int64_t> ids;
  ids.reserve(word.size());
  for (Sym s : word) {
    const auto it = encoder_.find(std::string(text(s)));
    // Every single byte and every merge result is in GPT-2's encoder; a miss means the files
    // and the code disagree, which must not pass as a wrong id.
    if (it == encoder_.end())
      throw Error("gpt2 tokenizer: BPE produced a symbol that is not in encoder.json");
    ids.push_back(it->second);
  }
  return ids;
}

std::vector<int64_t> Gpt2Tokenizer::encode(std::string_view text) const {
  std::vector<int64_t> out;
  out.reserve(text.size() / 4 + 16);
  std::lock_guard<std::mutex> lock(cache_mutex_);
  std::string key;
  gpt2_pretokenize(text, [&](std::string_view piece) {
    key.assign(piece);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      if (cache_.size() >= kCacheLimit) cache_.clear();
      it = cache_.emplace(key, bpe(piece)).first;
    }
    out.insert(out.end(), it->second.begin(), it->second.end());
  });
  return out;
}

std::string Gpt2Tokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int64_t id = ids[i];
    if (id < 0 || id >= kVocabSize)
      throw Error("gpt2 tokenizer: token id " + std::to_string(id) + " out of range [0, " +
                                  std::to_string(kVocabSize) + ") (position " + std::to_string(i) + ")");
    out += decoder_[id];
  }
  return out;
}

}  // namespace gs::tok
