#pragma once
// Model and data options shared by the CLI commands that build or train a model.
#include <string>

#include "demos/cli/options.h"
#include "nn/data.h"
#include "nn/lm.h"

namespace gs::cli {

// --backbone --head --rank --d-model --layers --heads --seq-len --tied --seed (without --backbone
// for a command that takes a list of backbones)
void add_model_options(Options& o, bool backbone = true);
// The model those options describe, for a vocabulary of `vocab` (validated: a bad combination
// throws naming the field; a factorized head's --rank above --d-model throws).
// `backbone` non-empty: that backbone instead of --backbone.
nn::LMConfig model_config_from(const Options& o, int64_t vocab, const std::string& backbone = "");
// Byte-level tokens of a text file, or of Debian's fortunes corpus when path is empty.
nn::TokenStream load_text_stream(const std::string& path);

}  // namespace gs::cli
