#pragma once
// SpamLang (PAPER.md claim 3): every sequence repeats one symbol s drawn from the vocabulary,
//   x_0 = x_1 = ... = x_T = s,   inputs = x_0..x_{T-1},   targets = x_1..x_T   (both [B, T], all s).
// So the target at every position, the first included, is the symbol the model is reading: a
// model that copies its current input token is 100% accurate, and such weights exist for any
// D > 1 whatever V is. A failure to learn it is optimisation, not expressivity.
//
// Symbols are uniform over [0, V), or Zipf: P(k) proportional to (k + 1)^-s (symbol 0 the most
// frequent). Sampling is deterministic given the Generator (inverse CDF on gen.uniform()).
#include <cstdint>
#include <vector>

#include "nn/data.h"
#include "nn/lm.h"
#include "tensor/random.h"

namespace gs::analysis {

class SpamLang {
 public:
  // vocab >= 1, seq_len >= 1, zipf >= 0 (0: uniform). Throws "SpamLang: ..." otherwise.
  SpamLang(int64_t vocab, int64_t seq_len, double zipf = 0);

  int64_t vocab() const { return vocab_; }
  int64_t seq_len() const { return seq_len_; }
  double zipf() const { return zipf_; }

  int64_t draw_symbol(Generator& gen) const;
  // P(symbol k) under the sampling distribution.
  double probability(int64_t k) const;
  // B sequences (one symbol each, drawn in order b = 0..B-1): inputs and targets int64 [B, T].
  nn::Batch sample(int64_t batch, Generator& gen) const;
  // The symbols of a batch made by sample(): inputs[b][0] for each b.
  static std::vector<int64_t> symbols(const nn::Batch& b);

 private:
  int64_t vocab_, seq_len_;
  double zipf_;
  std::vector<double> cdf_;  // Zipf only: cdf_[k] = P(symbol <= k)
};

// Symbols in shuffled passes over the whole vocabulary: each pass is a fresh random permutation
// of 0..V-1 (drawn from the Generator given to the first sample() of the pass), so after k V
// sequences every symbol has been the input of exactly k of them. For uniform SpamLang only:
// this is how a run ensures that no symbol is unseen (uniform draws need about V ln V sequences
// to see every symbol once; ln V = 10.8 at V = 50257).
class SpamLangPasses {
 public:
  explicit SpamLangPasses(const SpamLang& data);  // throws for a Zipf SpamLang
  nn::Batch sample(int64_t batch, Generator& gen);
  int64_t sequences() const { return drawn_; }  // sequences made so far

 private:
  const SpamLang* data_;
  std::vector<int64_t> perm_;
  size_t next_ = 0;
  int64_t drawn_ = 0;
};

// "Held-out" means freshly drawn: SpamLang has only V distinct sequences, so at any useful budget
// they are symbols the model trained on, and accuracy measures how many symbols it has learned.
// Next-token accuracy on `sequences` fresh held-out sequences drawn from gen: the fraction of
// ALL positions (0..T-1; each target is the symbol at the same position, so every one is
// predictable) where argmax of the model's logits equals the target. Runs without a graph, in
// eval mode, `batch` sequences at a time; restores the model's training flag.
double spamlang_accuracy(nn::LanguageModel& model, const SpamLang& data, int64_t sequences, Generator& gen,
                         int64_t batch = 64);

}  // namespace gs::analysis
