// Options shared by the commands that build a model (train, bottleneck, ...).
#include "demos/cli/model_options.h"

#include <stdexcept>

#include "tokenizer/tokenizer.h"

namespace gs::cli {

nn::LMConfig model_config_from(const Options& o, int64_t vocab, const std::string& backbone) {
  nn::LMConfig c;
  c.rank = o.integer("rank");
  c.mixtures = o.integer("mixtures");
  c.vocab = vocab;
  c.d_model = o.integer("d-model");
  c.n_layer = o.integer("layers");
  c.n_head = o.integer("heads");
  c.context = o.integer("seq-len");
  c.tied = o.on("tied");
  c.seed = static_cast<uint64_t>(o.integer("seed"));
  if (o.has("tokenizer") && !o.str("tokenizer").empty()) c.tokenizer = o.str("tokenizer");
  // the kinds after the numbers: a bad number is reported first, as when validate() checked names
  c.backbone = nn::parse_backbone(backbone.empty() ? o.str("backbone") : backbone);
  c.set_head(o.str("head"), "--head");
  c.validate();
  // a factorized head D -> r -> V with r > D still has rank D: the --rank asked for cannot exist
  if (c.head == nn::HeadKind::factorized && c.rank > c.d_model)
    throw std::runtime_error("option --rank: a factorized head's rank " + std::to_string(c.rank) +
                             " exceeds the hidden width D = " + std::to_string(c.d_model));
  return c;
}

void add_model_options(Options& o, bool backbone) {
  if (backbone) o.add("backbone", "transformer", "transformer | gru | ssm");
  o.add("head", "full", "full | factorized | mos | mlp | sigsoftmax (or a head registered by name)")
      .add("rank", "0", "rank r of a factorized head (D -> r -> V)")
      .add("mixtures", "2", "softmax components K of a mos head")
      .add("d-model", "64", "hidden width D")
      .add("layers", "2", "backbone layers")
      .add("heads", "4", "attention heads (transformer)")
      .add("seq-len", "64", "tokens per sequence (also the transformer's context)")
      .flag("tied", "tie the full head to the input embedding")
      .add("seed", "0", "seed for initialisation and data sampling");
}

nn::TokenStream load_text_stream(const std::string& path, const std::string& tokenizer) {
  const auto tok = tok::make_tokenizer(tokenizer);  // before reading: a bad name fails at once
  const std::string text = path.empty() ? nn::default_corpus() : nn::load_text_file(path);
  return nn::TokenStream(tok->encode(text), tok->vocab_size());
}

nlohmann::json config_json(const nn::LMConfig& c) {
  // the kinds and the dtype by name: nlohmann would write an enum as its number
  return {{"backbone", nn::backbone_name(c.backbone)},
          {"head", c.head_label()},
          {"rank", c.rank},
          {"mixtures", c.mixtures},
          {"vocab", c.vocab},
          {"d_model", c.d_model},
          {"n_layer", c.n_layer},
          {"n_head", c.n_head},
          {"context", c.context},
          {"mlp_ratio", c.mlp_ratio},
          {"tied", c.tied},
          {"final_norm", c.final_norm},
          {"dtype", dtype_name(c.dtype)},
          {"seed", c.seed},
          {"tokenizer", c.tokenizer}};
}

void add_tokenizer_option(Options& o, bool for_checkpoint) {
  if (for_checkpoint)
    o.add("tokenizer", "", "text to ids: byte (V = 256) or gpt2 (GPT-2's BPE, V = 50257); empty: the checkpoint's");
  else
    o.add("tokenizer", "byte", "text to ids: byte (V = 256) or gpt2 (GPT-2's BPE, V = 50257)");
}

void check_tokenizer_not_with_spamlang(const Options& o) {
  const std::string t = o.str("tokenizer");
  if (o.on("spamlang") && !t.empty() && t != "byte")
    throw std::runtime_error("option --tokenizer: SpamLang has its own symbols; --tokenizer applies to text only");
}

std::string checkpoint_tokenizer(const Options& o, const nn::LMConfig& saved, const std::string& path) {
  const std::string asked = o.str("tokenizer");
  if (!asked.empty() && asked != saved.tokenizer)
    throw std::runtime_error("--tokenizer " + asked + ": " + path + " was trained on ids of the '" + saved.tokenizer +
                             "' tokenizer");
  return saved.tokenizer;
}

}  // namespace gs::cli
