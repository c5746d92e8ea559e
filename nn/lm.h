#pragma once
// LanguageModel = Backbone ("backbone") + LMHead ("head"):
//   tokens [B, T] -> hidden [B*T, D] -> logits [B*T, V] -> cross-entropy against targets [B, T].
// loss() fuses the last two steps by default (the head's chunked linear_cross_entropy: the
// [B*T, V] logits are never held); LossOptions::fused = false takes the unfused path, whose
// graph has the "head.logits" node (what hooks on the logits and the analysis's node traces need).
// LMConfig names every choice, so swapping the head or the backbone is one line:
//   LMConfig cfg;  cfg.backbone = BackboneKind::ssm;  cfg.head = HeadKind::factorized;  cfg.rank = 16;
//   auto model = make_language_model(cfg);
// Its fields are typed (integers, booleans, kinds, a dtype). A checkpoint stores it as text
// metadata (safetensors metadata values are strings): to_map() writes each field's text form and
// from_map() parses every value by its field's type, so a bad value is refused naming its key.
// Code above nn asks the config (max_seq_len(), width_multiple()) instead of testing the kind.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "nn/backbone.h"
#include "nn/checkpoint.h"
#include "nn/head.h"

namespace gs::nn {

struct LMConfig {
  BackboneKind backbone = BackboneKind::transformer;
  HeadKind head = HeadKind::full;
  std::string registered_head;  // head == HeadKind::registered: its name (nn/head_registry.h)
  int64_t rank = 0;  // factorized head (>= 1 there); passed to a registered head's factory
  int64_t mixtures = 2;  // mos head: its number of softmax components K (1..64)
  int64_t vocab = 256;
  int64_t d_model = 64;
  int64_t n_layer = 2;
  int64_t n_head = 4;
  int64_t context = 128;
  int64_t mlp_ratio = 4;
  bool tied = false;  // full head only: the head uses backbone.wte.weight
  bool final_norm = true;
  DType dtype = kFloat32;
  uint64_t seed = 0;
  // The tokenizer the model's ids come from ("byte" | "gpt2", tokenizer/tokenizer.h): recorded in
  // checkpoints so that a model is never fed ids of another tokenizer. Not checked against vocab
  // (SpamLang and test models use their own symbol sets with the "byte" default).
  std::string tokenizer = "byte";

  // The head by name: "full", "factorized" or a registered head's name (then head =
  // HeadKind::registered, registered_head = name). Unknown names throw "<where>: unknown head ...".
  void set_head(const std::string& name, std::string_view where = "LMConfig");
  // The head's name: head_name(head), or registered_head for a registered head.
  std::string head_label() const;
  BackboneConfig backbone_config() const;
  // The longest sequence the backbone accepts (Backbone::max_seq_len() of the model this config
  // builds): context for the transformer, kUnlimitedSeqLen for the recurrent backbones.
  int64_t max_seq_len() const;
  // Every hidden width the backbone accepts is a multiple of this: the transformer's head count
  // (at least 1), 1 for the others.
  int64_t width_multiple() const;
  // k, the width of the head's matrix (LMHead::rank() of the model this config builds): rank for
  // a factorized head, d_model for a full one.
  int64_t head_rank() const;
  // Throws "LMConfig: ..." naming the bad field (unknown tokenizer, rank < 1 for a
  // factorized head, tied with a factorized head, non-positive sizes, a size beyond its limit:
  // vocab 2^24, d_model and rank 65536, n_layer 1024, n_head d_model, context 2^20, mlp_ratio 64),
  // or when the parameters would not fit in this machine's memory.
  void validate() const;
  // At least this many parameters (every backbone has at least D^2 weights per layer: attention
  // 4 D^2 and an MLP 2 mlp_ratio D^2, a GRU layer 6 D^2, an SSM layer 4 D^2; the embedding V D;
  // an untied full head V D, a factorized one rank (V + D); positions context D). In double: no
  // product overflows.
  double parameter_lower_bound() const;
  // Every field as text, the form checkpoint metadata holds ("backbone" -> "gru", "rank" -> "16",
  // "tied" -> "true", "dtype" -> "float32", ...).
  std::map<std::string, std::string> to_map() const;
  // The inverse: each value parsed by its field's type (an integer, "true"/"false" or "1"/"0", a
  // kind's name, float32/float64, an unsigned seed); fields missing from m keep their defaults
  // (checkpoints written before "tokenizer" existed read as "byte"). An unparsable value throws
  // naming the key ("LMConfig: 'rank' = '3x' is not an integer"; an unknown kind: "LMConfig:
  // unknown backbone 'x' (valid: transformer, gru, ssm)"). strict: a key that is not a field
  // throws (pass false when m also holds other metadata).
  static LMConfig from_map(const std::map<std::string, std::string>& m, bool strict = true);
  bool operator==(const LMConfig&) const = default;
};

// How LanguageModel::loss computes the mean cross-entropy.
struct LossOptions {
  int64_t ignore_index = -100;
  // true: head()->loss(hidden, targets) — for the built-in heads the fused, chunked
  //   linear_cross_entropy: no [N, V] logits, one node (named "loss") from the head's input to the
  //   loss. false: forward(tokens) then cross_entropy — the logits node "head.logits" exists
  //   (hooks, retain_grad, observers and grad() see G there), at the cost of two [N, V] buffers.
  bool fused = true;
  int64_t chunk = 0;                                // fused only: rows per chunk (0: from the budget)
  int64_t memory_budget_bytes = int64_t{64} << 20;  // fused only: bound on the [chunk, V] buffer
  // fused only: receives G chunk by chunk during the forward (LinearCrossEntropyChunk: rows
  // i0..i1 of G = d loss / d logits and of the head's input). Refused with fused = false or a
  // head without a fused loss.
  LinearCrossEntropyChunkFn on_chunk;
};

class LanguageModel : public Module {
 public:
  LanguageModel(std::shared_ptr<Backbone> backbone, std::shared_ptr<LMHead> head, LMConfig config = {});

  Tensor hidden(const Tensor& tokens) const;   // [B, T] -> [B*T, D]  ("hidden")
  Tensor forward(const Tensor& tokens) const;  // [B, T] -> [B*T, V]  ("head.logits")
  // Mean cross-entropy over the non-ignored targets [B, T] ("loss"), fused (see LossOptions).
  Tensor loss(const Tensor& tokens, const Tensor& targets, int64_t ignore_index = -100) const;
  Tensor loss(const Tensor& tokens, const Tensor& targets, const LossOptions& opt) const;

  // The backbone's checks on tokens [B, T] (Backbone::validate_input), without running it.
  void validate_input(const Tensor& tokens) const { backbone_->validate_input(tokens); }
  int64_t max_seq_len() const { return backbone_->max_seq_len(); }

  const std::shared_ptr<Backbone>& backbone() const { return backbone_; }
  const std::shared_ptr<LMHead>& head() const { return head_; }
  const LMConfig& config() const { return config_; }

 private:
  std::shared_ptr<Backbone> backbone_;
  std::shared_ptr<LMHead> head_;
  LMConfig config_;
};

// Builds backbone then head from one Generator (seeded from cfg.seed, or the one given).
// A checkpoint's configuration against its own tensors, before the model is built: throws
// gs::Error("<path>: ...") when the configuration describes more parameters than `model_tensors`
// hold (n_layer = 1e9 beside two layers of weights would otherwise build for minutes before the
// tensor names disagree).
void check_config_fits_tensors(const LMConfig& cfg, const std::map<std::string, Tensor>& model_tensors,
                               const std::string& path);

std::shared_ptr<LanguageModel> make_language_model(const LMConfig& cfg);
std::shared_ptr<LanguageModel> make_language_model(const LMConfig& cfg, Generator& gen);

// The model configuration a checkpoint records (its "config.<key>" metadata, other keys such as
// the run's ignored), parsed (from_map), validated and checked against the checkpoint's tensors
// (check_config_fits_tensors), so nothing is built from a damaged file.
LMConfig checkpoint_model_config(const Checkpoint& ck);
// The model a checkpoint holds: built from cfg (normally checkpoint_model_config(ck)) and loaded
// through load_model_state (names, shapes, dtypes and finite values checked before any write).
std::shared_ptr<LanguageModel> load_language_model(const Checkpoint& ck, const LMConfig& cfg);
// A copy of a model built by make_language_model in another dtype: its config with that dtype,
// every floating parameter and buffer converted (integer buffers copied as they are).
std::shared_ptr<LanguageModel> copy_language_model(const LanguageModel& model, DType dtype);

}  // namespace gs::nn
