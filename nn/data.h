#pragma once
// Text data for language-model training: a byte-level tokenizer (V = 256), a token-stream
// dataset that cuts (B, T) windows (random ones, or a seeded shuffled epoch of non-overlapping
// ones), and the text sources: any file, or the default corpus from Debian's fortunes package.
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/random.h"
#include "tensor/tensor.h"
#include "tokenizer/tokenizer.h"

namespace gs::comm {
class Communicator;
}

namespace gs::nn {

// Each byte is a token (tokenizer/tokenizer.h): encode never fails; decode rejects tokens outside
// [0, 256) with a tok::Error. This adds a decode of int64 tensors.
class ByteTokenizer : public tok::ByteTokenizer {
 public:
  using tok::ByteTokenizer::decode;
  std::string decode(const Tensor& tokens) const;  // int64, any shape, row-major order
};

// inputs and targets: int64 [B, T] on the CPU; targets[b][t] is the token after inputs[b][t].
struct Batch {
  Tensor inputs, targets;
};

// Rank r of R's consecutive share of a global batch of B sequences: rows [r B / R, (r + 1) B / R)
// of inputs and targets, copied (a share outlives the batch it was cut from). Every data-parallel
// user (nn::Trainer, the analysis under mpirun) splits a batch this one way. The batch itself
// when c is null or a world of one; throws "<op>: batch B is not a multiple of the R processes
// ..." when B does not split evenly.
Batch rank_share(const Batch& global, const comm::Communicator* c, const char* op = "train");

class TokenStream {
 public:
  // Every token must lie in [0, vocab_size).
  explicit TokenStream(std::vector<int64_t> tokens, int64_t vocab_size = ByteTokenizer::kVocabSize);

  int64_t size() const { return static_cast<int64_t>(tokens_->size()); }
  int64_t vocab_size() const { return vocab_; }
  const std::vector<int64_t>& tokens() const { return *tokens_; }

  // B windows of T + 1 consecutive tokens, starts uniform in [0, size - T - 1] (so a window
  // never runs past the end), drawn from gen in order b = 0..B-1. Needs size >= T + 1.
  Batch sample(int64_t B, int64_t T, Generator& gen) const;
  // The window at a given start (inputs [1, T], targets [1, T]).
  Batch window(int64_t start, int64_t T) const;

  // An epoch visits the non-overlapping windows starting at 0, T, 2T, ... (each needs T + 1
  // tokens: (size - 1) / T of them) in an order shuffled by gen when the epoch is made, B at a
  // time. drop_last skips a final batch of fewer than B windows.
  class Epoch;
  Epoch epoch(int64_t B, int64_t T, Generator& gen, bool drop_last = true) const;
  int64_t window_count(int64_t T) const;

 private:
  void check_bt(const char* op, int64_t B, int64_t T) const;
  Batch gather(const std::vector<int64_t>& starts, int64_t T) const;
  std::shared_ptr<const std::vector<int64_t>> tokens_;
  int64_t vocab_;
  friend class Epoch;
};

// Usage: auto ep = stream.epoch(B, T, gen); while (auto b = ep.next()) train(*b);
//    or: for (const Batch& b : stream.epoch(B, T, gen)) ...
class TokenStream::Epoch {
 public:
  std::optional<Batch> next();
  int64_t batch_count() const;
  const std::vector<int64_t>& starts() const { return starts_; }  // window starts in visit order

  struct Sentinel {};
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    explicit Iterator(Epoch* e) : e_(e), cur_(e->next()) {}
    const Batch& operator*() const { return *cur_; }
    const Batch* operator->() const { return &*cur_; }
    Iterator& operator++() {
      cur_ = e_->next();
      return *this;
    }
    bool operator==(Sentinel) const { return !cur_.has_value(); }

   private:
    Epoch* e_;
    std::optional<Batch> cur_;
  };
  Iterator begin() { return Iterator(this); }
  Sentinel end() { return {}; }

 private:
  friend class TokenStream;
  Epoch(TokenStream s, std::vector<int64_t> starts, int64_t B, int64_t T, bool drop_last)
      : stream_(std::move(s)), starts_(std::move(starts)), B_(B), T_(T), drop_last_(drop_last) {}
  TokenStream stream_;  // shares the token buffer
  std::vector<int64_t> starts_;
  int64_t B_, T_;
  bool drop_last_;
  size_t pos_ = 0;
};

// The whole file as bytes. Throws gs::Error("<path>: ...") when it cannot be read or is empty.
std::string load_text_file(const std::string& path);

inline constexpr const char* kFortunesDir = "/usr/share/games/fortunes";
// The fortune data files in dir (regular files without .dat/.u8, sorted by name).
std::vector<std::string> default_corpus_files(const std::string& dir = kFortunesDir);
// Their text concatenated in that order: the default training text. Throws a gs::Error that says
// to run scripts/setup when the fortunes package is not installed.
std::string default_corpus(const std::string& dir = kFortunesDir);

}  // namespace gs::nn
