#include "demos/cli/train_data.h"

#include <cmath>
#include <memory>
#include <stdexcept>

#include "demos/cli/default_text.h"
#include "demos/cli/experiment_options.h"
#include "demos/cli/model_options.h"
#include "demos/cli/ranks.h"
#include "tokenizer/tokenizer.h"

namespace gs::cli {

void add_train_data_options(Options& o) {
  o.add("text", "", "training text (default: the text embedded in the binary; with --tokenizer gpt2, Debian's "
                    "fortunes corpus)")
      .flag("spamlang", "train on SpamLang (every sequence repeats one symbol) instead of text")
      .add("vocab", "0", "vocabulary size V (0: 256 for text, 1024 for SpamLang; text ids above 255 never occur)")
      .add("zipf", "0", "SpamLang symbol distribution: Zipf exponent (0: uniform)");
  add_tokenizer_option(o);
}

TrainData train_data_from(const Options& o, int64_t seq_len) {
  const bool spam = o.on("spamlang");
  const int64_t vocab = o.integer("vocab");
  const double zipf = o.number("zipf");
  if (spam && !o.str("text").empty()) throw std::runtime_error("--text and --spamlang exclude each other");
  if (vocab < 0) throw std::runtime_error("option --vocab: must be >= 0 (0: the data's own), got " + std::to_string(vocab));
  if (zipf != 0 && !spam) throw std::runtime_error("option --zipf: only with --spamlang");
  check_tokenizer_not_with_spamlang(o);
  const std::string tokenizer = o.str("tokenizer");
  TrainData d;
  if (spam) {
    if (vocab == 1) throw std::runtime_error("option --vocab: SpamLang needs V >= 2");
    d.spam = std::make_shared<analysis::SpamLang>(vocab ? vocab : 1024, seq_len, zipf);
    d.vocab = d.spam->vocab();
    d.description = strf("SpamLang V=%ld%s", long(d.vocab), zipf > 0 ? strf(", zipf %g", zipf).c_str() : ", uniform");
    return d;
  }
  const std::string& path = o.str("text");
  if (path.empty() && tokenizer == "byte") {
    const auto tok = tok::make_tokenizer(tokenizer);
    d.text = std::make_shared<nn::TokenStream>(tok->encode(kDefaultText), tok->vocab_size());
  } else {  // a file, or for GPT-2's vocabulary the fortunes corpus (the embedded text is ~700 of its tokens)
    d.text = std::make_shared<nn::TokenStream>(load_text_stream(path, tokenizer));
  }
  if (vocab != 0 && vocab < d.text->vocab_size())
    throw std::runtime_error(strf("option --vocab: text with the %s tokenizer needs V >= %ld, got %ld", tokenizer.c_str(),
                                  long(d.text->vocab_size()), long(vocab)));
  if (d.text->size() < seq_len + 1)
    throw std::runtime_error(strf("the text (%ld tokens) is shorter than --seq-len + 1 = %ld tokens",
                                  long(d.text->size()), long(seq_len + 1)));
  d.vocab = vocab ? vocab : d.text->vocab_size();
  const char* name = !path.empty() ? path.c_str() : tokenizer == "byte" ? "embedded text" : "fortunes corpus";
  d.description = strf("%s, %ld %s tokens", name, long(d.text->size()),
                       tokenizer.c_str());
  return d;
}

bool asks_for_gpt2(const std::vector<std::string>& args) {
  bool gpt2 = false;  // the last --tokenizer wins, as in Options::parse
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--tokenizer" && i + 1 < args.size()) gpt2 = args[i + 1] == "gpt2";
    else if (args[i].rfind("--tokenizer=", 0) == 0) gpt2 = args[i] == "--tokenizer=gpt2";
  }
  return gpt2;
}

std::vector<std::string> with_bottleneck_defaults(const std::vector<std::string>& args) {
  std::vector<std::string> a = asks_for_gpt2(args)
                                   ? std::vector<std::string>{"--d-model", "128", "--layers", "2", "--heads", "4", "--seq-len", "128"}
                                   : std::vector<std::string>{"--d-model", "32", "--layers", "2", "--heads", "4", "--seq-len", "64"};
  a.insert(a.end(), args.begin(), args.end());
  return a;
}

nn::TrainConfig train_config_from(const Options& o) {
  nn::TrainConfig tc;
  tc.steps = o.integer("steps");
  tc.batch = o.integer("batch");
  tc.seq_len = o.integer("seq-len");
  tc.lr = o.number("lr");
  tc.seed = static_cast<uint64_t>(o.integer("seed"));
  if (tc.steps < 1) throw std::runtime_error("option --steps: must be >= 1");
  if (tc.batch < 1) throw std::runtime_error("option --batch: must be >= 1");
  if (!(tc.lr > 0) || !std::isfinite(tc.lr)) throw std::runtime_error("option --lr: must be finite and > 0");
  check_batch_splits(tc.batch);  // under mpirun each process takes batch / N sequences
  return tc;
}

}  // namespace gs::cli
