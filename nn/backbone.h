#pragma once
// Backbone: the one interface every sequence model implements, so the head, the loss and the
// analysis never special-case a backbone:
//
//   tokens [B, T] int64  ->  hidden states [B, T, D]
//
// Three implementations, selected by kind (or by name) with make_backbone():
//   BackboneKind::transformer  "transformer"  pre-norm GPT decoder (nn/transformer.h)
//   BackboneKind::gru          "gru"          stacked GRU unrolled over T (nn/gru.h)
//   BackboneKind::ssm          "ssm"          diagonal gated linear recurrence with input-dependent
//                                             gates (nn/ssm.h)
// The names are the kinds' text form: what the CLI takes and checkpoints and run.json record.
// Each owns its token embedding, registered as "wte" (weight [vocab, D]), so a full head can tie
// to it through token_embedding().
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nn/module.h"
#include "tensor/random.h"

namespace gs::nn {

enum class BackboneKind { transformer, gru, ssm };

// max_seq_len() of a backbone that takes sequences of any length (the recurrent ones).
inline constexpr int64_t kUnlimitedSeqLen = std::numeric_limits<int64_t>::max();

class Backbone : public Module {
 public:
  virtual Tensor forward(const Tensor& tokens) const = 0;  // [B, T] int64 -> [B, T, D]
  virtual int64_t d_model() const = 0;
  virtual int64_t vocab() const = 0;
  virtual std::string kind() const = 0;  // the name make_backbone() knows it by
  // The input embedding matrix [vocab, D] (a parameter of this backbone): what a tied head uses.
  virtual Tensor token_embedding() const = 0;
  // The longest sequence T that forward() accepts: the transformer's context (the rows of its
  // positional embedding); kUnlimitedSeqLen for a backbone with no such limit (the default).
  virtual int64_t max_seq_len() const { return kUnlimitedSeqLen; }
  // The name of the node that carries the first layer's output in forward()'s graph (that layer's
  // module path, e.g. "backbone.blocks.0" inside a LanguageModel), "" without layers: where the
  // analysis reads how much gradient reaches the bottom of the backbone.
  virtual std::string first_layer_node() const { return ""; }
  // What forward() checks before any work, so a caller can refuse an input up front with the
  // same message: tokens int64, a non-empty [B, T], and T <= max_seq_len()
  // ("<kind>: sequence length T = 9 exceeds the context length 8").
  void validate_input(const Tensor& tokens) const;

 protected:
  // Validates tokens for forward(): int64, 2-d, non-empty. "<kind>: ..." errors.
  void check_tokens(const Tensor& tokens) const;
};

struct BackboneConfig {
  int64_t vocab = 256;
  int64_t d_model = 64;
  int64_t n_layer = 2;
  int64_t n_head = 4;      // transformer only
  int64_t context = 128;   // transformer: rows of the positional embedding (max T)
  int64_t mlp_ratio = 4;   // transformer: MLP hidden width = mlp_ratio * d_model
  bool final_norm = true;  // gru: LayerNorm "ln_f" after the last layer (transformer/ssm: always)
  DType dtype = kFloat32;
  uint64_t seed = 0;       // used only by the make_backbone overload without a Generator
};

// Names make_backbone() accepts, in a fixed order: {"transformer", "gru", "ssm"}.
const std::vector<std::string>& backbone_names();
// A kind's name ("transformer", "gru", "ssm"), and back. parse_backbone throws
// "<where>: unknown backbone 'x' (valid: transformer, gru, ssm)" for any other text.
const char* backbone_name(BackboneKind kind);
BackboneKind parse_backbone(const std::string& name, std::string_view where = "LMConfig");
std::ostream& operator<<(std::ostream& os, BackboneKind kind);  // the name

// Builds the backbone of that kind, drawing every initial weight from gen.
std::shared_ptr<Backbone> make_backbone(BackboneKind kind, const BackboneConfig& cfg, Generator& gen);
// Same, with a Generator seeded from cfg.seed.
std::shared_ptr<Backbone> make_backbone(BackboneKind kind, const BackboneConfig& cfg);
// By name: throws "make_backbone: unknown backbone 'x' (valid: transformer, gru, ssm)" for any
// other name.
std::shared_ptr<Backbone> make_backbone(const std::string& name, const BackboneConfig& cfg, Generator& gen);
std::shared_ptr<Backbone> make_backbone(const std::string& name, const BackboneConfig& cfg);

// Helpers for recurrent backbones unrolled over T (both differentiable):
// x [B, T, D] -> step t [B, D], and steps T x [B, D] -> [B, T, D].
Tensor time_step(const Tensor& x, int64_t t);
Tensor stack_time(const std::vector<Tensor>& steps);

// An indexed list of submodules: children named "0", "1", ... so parameters read
// "blocks.1.attn.q.weight".
template <class M>
class ModuleList : public Module {
 public:
  std::shared_ptr<M> append(std::shared_ptr<M> m) {
    items_.push_back(register_module(std::to_string(items_.size()), std::move(m)));
    return items_.back();
  }
  size_t size() const { return items_.size(); }
  const std::shared_ptr<M>& operator[](size_t i) const { return items_.at(i); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<std::shared_ptr<M>> items_;
};

}  // namespace gs::nn
