#include "analysis/spamlang.h"

#include <algorithm>
#include <cmath>

#include "autograd/ops.h"
#include "tensor/ops.h"

namespace gs::analysis {

SpamLang::SpamLang(int64_t vocab, int64_t seq_len, double zipf) : vocab_(vocab), seq_len_(seq_len), zipf_(zipf) {
  if (vocab < 1) fail("SpamLang", "vocab must be >= 1, got ", vocab);
  if (seq_len < 1) fail("SpamLang", "seq_len must be >= 1, got ", seq_len);
  if (!(zipf >= 0) || !std::isfinite(zipf)) fail("SpamLang", "zipf exponent must be finite and >= 0, got ", zipf);
  if (zipf > 0) {
    cdf_.resize(static_cast<size_t>(vocab));
    double total = 0;
    for (int64_t k = 0; k < vocab; ++k) cdf_[static_cast<size_t>(k)] = total += std::pow(double(k + 1), -zipf);
    for (double& c : cdf_) c /= total;
    cdf_.back() = 1.0;
  }
}

int64_t SpamLang::draw_symbol(Generator& gen) const {
  if (cdf_.empty()) return gen.randint(vocab_);
  const double u = gen.uniform();  // [0, 1): the first k with cdf[k] > u
  const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  return std::min<int64_t>(vocab_ - 1, it - cdf_.begin());
}

double SpamLang::probability(int64_t k) const {
  if (k < 0 || k >= vocab_) return 0;
  if (cdf_.empty()) return 1.0 / static_cast<double>(vocab_);
  const size_t i = static_cast<size_t>(k);
  return i == 0 ? cdf_[0] : cdf_[i] - cdf_[i - 1];
}

nn::Batch SpamLang::sample(int64_t batch, Generator& gen) const {
  if (batch < 1) fail("SpamLang.sample", "batch must be >= 1, got ", batch);
  std::vector<int64_t> v(static_cast<size_t>(batch * seq_len_));
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t s = draw_symbol(gen);
    std::fill_n(v.begin() + b * seq_len_, seq_len_, s);
  }
  Tensor x = from_vector(v, {batch, seq_len_});
  return {x, op::clone(x)};
}

SpamLangPasses::SpamLangPasses(const SpamLang& data) : data_(&data) {
  if (data.zipf() != 0)
    fail("SpamLang", "passes over the vocabulary need uniform symbols (zipf 0), got zipf ", data.zipf());
}

nn::Batch SpamLangPasses::sample(int64_t batch, Generator& gen) {
  if (batch < 1) fail("SpamLang.sample", "batch must be >= 1, got ", batch);
  const int64_t T = data_->seq_len(), V = data_->vocab();
  std::vector<int64_t> v(static_cast<size_t>(batch * T));
  for (int64_t b = 0; b < batch; ++b) {
    if (next_ == perm_.size()) {  // a new pass: Fisher-Yates over 0..V-1
      perm_.resize(static_cast<size_t>(V));
      for (int64_t i = 0; i < V; ++i) perm_[static_cast<size_t>(i)] = i;
      for (int64_t i = V - 1; i > 0; --i) std::swap(perm_[static_cast<size_t>(i)], perm_[static_cast<size_t>(gen.randint(i + 1))]);
      next_ = 0;
    }
    std::fill_n(v.begin() + b * T, T, perm_[next_++]);
  }
  drawn_ += batch;
  Tensor x = from_vector(v, {batch, T});
  return {x, op::clone(x)};
}

std::vector<int64_t> SpamLang::symbols(const nn::Batch& b) {
  const Tensor first = op::contiguous(b.inputs);
  const int64_t B = first.size(0), T = first.size(1);
  const int64_t* p = first.data<int64_t>();
  std::vector<int64_t> out(static_cast<size_t>(B));
  for (int64_t i = 0; i < B; ++i) out[static_cast<size_t>(i)] = p[i * T];
  return out;
}

double spamlang_accuracy(nn::LanguageModel& model, const SpamLang& data, int64_t sequences, Generator& gen,
                         int64_t batch) {
  if (sequences < 1 || batch < 1) fail("spamlang_accuracy", "sequences and batch must be >= 1");
  if (data.vocab() > model.config().vocab)
    fail("spamlang_accuracy", "SpamLang vocab ", data.vocab(), " exceeds the model's vocab ", model.config().vocab);
  const bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  int64_t correct = 0, total = 0;
  for (int64_t done = 0; done < sequences; done += batch) {
    const nn::Batch b = data.sample(std::min(batch, sequences - done), gen);
    const Tensor pred = op::argmax(model.forward(b.inputs), 1);  // [B*T]
    const auto p = pred.to_vector<int64_t>();
    const auto t = op::contiguous(b.targets).to_vector<int64_t>();
    for (size_t i = 0; i < p.size(); ++i) correct += p[i] == t[i];
    total += static_cast<int64_t>(p.size());
  }
  model.train(was_training);
  return static_cast<double>(correct) / static_cast<double>(total);
}

}  // namespace gs::analysis
