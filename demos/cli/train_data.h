#pragma once
// The training data of the commands that watch the head while a model trains (bottleneck,
// backbones), from their options: byte-level text (the text embedded in the binary, or --text
// FILE) or SpamLang (--spamlang --vocab V [--zipf S]), for analysis::train_and_watch.
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/watch.h"
#include "demos/cli/options.h"
#include "nn/trainer.h"

namespace gs::cli {

// --text FILE, --spamlang, --vocab V, --zipf S
void add_train_data_options(Options& o);

// The data (text or spam, exactly one set) with what the commands print and record about it.
struct TrainData : analysis::WatchData {
  std::string description;  // "embedded text, 2878 tokens" / "SpamLang V=4096"
  int64_t vocab = 0;        // the model's V (text: 256 unless --vocab is larger)
};

// The data those options describe, for sequences of seq_len tokens. Throws (naming the option)
// for --text with --spamlang, a --vocab below 256 with text or below 2 with SpamLang, a negative
// --zipf, --zipf without --spamlang, or a text shorter than seq_len + 1 tokens.
TrainData train_data_from(const Options& o, int64_t seq_len);

// The model of the bottleneck commands, prepended to their arguments (later ones win): 2 layers,
// D = 32, so the head is narrow against 256 byte values; 64-token sequences. With --tokenizer
// gpt2 the paper's regime instead: D = 128 against V = 50257 (V/D = 393), 128-token sequences.
std::vector<std::string> with_bottleneck_defaults(const std::vector<std::string>& args);
// Whether args choose --tokenizer gpt2 (the last --tokenizer counts).
bool asks_for_gpt2(const std::vector<std::string>& args);

// --steps --batch --lr (declared by the command) and --seq-len (add_model_options), checked:
// steps and batch >= 1, lr finite and > 0, batch a multiple of the processes under mpirun
// (demos/cli/ranks.h); tc.seed is --seed.
nn::TrainConfig train_config_from(const Options& o);

}  // namespace gs::cli
