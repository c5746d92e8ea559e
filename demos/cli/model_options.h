#pragma once
// Model and data options shared by the CLI commands that build or train a model.
#include <string>

#include <nlohmann/json.hpp>

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
// The text at path (default: the fortunes corpus) as ids of the named tokenizer ("byte" | "gpt2").
nn::TokenStream load_text_stream(const std::string& path, const std::string& tokenizer = "byte");

// Every LMConfig field with its JSON type (numbers, booleans, strings): run.json's "model".
nlohmann::json config_json(const nn::LMConfig& c);

// --tokenizer byte|gpt2 (default byte), for the commands that read text. With a checkpoint
// (analyze, equal-norm: for_checkpoint) the default is empty, meaning "the checkpoint's".
void add_tokenizer_option(Options& o, bool for_checkpoint = false);

// Throws when --spamlang (declared by the command) comes with a --tokenizer other than byte or
// empty: SpamLang's symbols are not text.
void check_tokenizer_not_with_spamlang(const Options& o);

// The tokenizer a command reading a checkpoint uses: --tokenizer when given, else the
// checkpoint's. Throws "--tokenizer X: <path> was trained on ids of the 'Y' tokenizer" when they differ.
std::string checkpoint_tokenizer(const Options& o, const nn::LMConfig& saved, const std::string& path);

}  // namespace gs::cli
