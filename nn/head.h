#pragma once
// LM heads: hidden states [N, D] -> logits [N, V], one interface for every head, so analysis
// code never special-cases a head type. Each head exposes head_matrix(): the V x k matrix M whose
// column space every logit gradient must pass through on its way back to the hidden states
// (dL/dh = J^T dL/dz factors through M^T, so only the part of dL/dz in col(M) survives):
//   FullHead        z = h W^T (+ b)       M = W        [V, D], k = D
//   FactorizedHead  z = (h D^T) U^T       M = U        [V, r], k = r   (D: "down", U: "up")
// The logits node is named "<path>.logits" ("head.logits" inside a LanguageModel).
// loss(h, targets, opt) is the head's training loss: for the built-in heads the fused, chunked
// linear_cross_entropy(head_input(h), head_matrix(), bias), which never holds the [N, V] logits
// (and so has no logits node: its one node is "<path>.linear_cross_entropy").
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/ops/loss.h"
#include "nn/layers.h"
#include "nn/module.h"

namespace gs::nn {

// The heads make_head() builds: HeadKind::full ("full"), HeadKind::factorized ("factorized"), and
// the non-linear ones of nn/heads_nonlinear.h: mos, mlp, sigsoftmax.
// HeadKind::registered: a head registered by name from outside the library (nn/head_registry.h;
// LMConfig::registered_head holds the name).
enum class HeadKind { full, factorized, mos, mlp, sigsoftmax, registered };

class LMHead : public Module {
 public:
  virtual Tensor forward(const Tensor& h) const = 0;  // [N, D] (any leading dims) -> [N, V]
  virtual Tensor head_matrix() const = 0;             // [V, k]
  // The rows that multiply head_matrix()^T to give the logits (before any bias): h itself for a
  // full head, down(h) [N, r] for a factorized one. The analysis takes (head_input, head_matrix).
  virtual Tensor head_input(const Tensor& h) const = 0;
  virtual int64_t vocab() const = 0;                  // V
  virtual int64_t d_model() const = 0;                // D, the width of h
  virtual int64_t rank() const = 0;                   // k = head_matrix().size(1)
  virtual std::string kind() const = 0;               // "full" | "factorized"
  // Cross-entropy of forward(h) [N, D] against targets int64 [N] (on h's device), reduced as
  // opt.reduction says. This default materialises the logits: forward(h), then cross_entropy
  // (opt.chunk and memory_budget_bytes unused; opt.on_chunk refused, it needs a fused head).
  // FullHead and FactorizedHead override it with the fused linear_cross_entropy; a custom head
  // whose logits are exactly a(h) M^T (+ b) with M and b parameters can do the same.
  virtual Tensor loss(const Tensor& h, const Tensor& targets, const LinearCrossEntropyOptions& opt) const;
  // true when loss() is linear_cross_entropy(head_input(h), head_matrix(), head_bias(), ...): it
  // takes opt.on_chunk, and G = d loss / d logits is the gradient of head_input(h) head_matrix()^T
  // + head_bias(). The analysis then measures the head inside that fused pass.
  virtual bool fused_loss() const { return false; }
  virtual Tensor head_bias() const { return Tensor(); }  // [V] or undefined
  // true when the logits are head_input(h) head_matrix()^T (+ head_bias()) with head_input linear
  // in h: then every token's Jacobian dz/dh has its columns in col(head_matrix()), and the
  // column-space metric is exact. Any other head (false, the default) is measured by the
  // per-token Jacobian metric (analysis/jacobian_metric.h), which costs D forward passes more.
  virtual bool linear() const { return false; }
  // true for the heads this library defines; the analysis runs the leak test by default on the
  // others (analysis::MonitorOptions::leak_test).
  virtual bool builtin() const { return false; }

 protected:
  void check_hidden(const Tensor& h) const;  // last dim == d_model()
};

class FullHead : public LMHead {
 public:
  // An untied head: its own weight [V, D] (PyTorch Linear init), registered as "weight".
  FullHead(int64_t d_model, int64_t vocab, Generator& gen, bool bias = false, DType dtype = kFloat32);
  // A head tied to an existing embedding weight [V, D] (e.g. backbone->token_embedding()). The
  // tensor is shared, not registered again: it appears once in named_parameters(), under the
  // module that owns it, and receives the gradients of both uses.
  explicit FullHead(const Tensor& tied_weight, bool bias = false);

  Tensor forward(const Tensor& h) const override;
  Tensor head_matrix() const override { return weight; }
  Tensor head_input(const Tensor& h) const override { return h; }
  int64_t vocab() const override { return weight.size(0); }
  int64_t d_model() const override { return weight.size(1); }
  int64_t rank() const override { return weight.size(1); }
  std::string kind() const override { return "full"; }
  // linear_cross_entropy(h, weight, bias, targets, opt): no [N, V] logits.
  Tensor loss(const Tensor& h, const Tensor& targets, const LinearCrossEntropyOptions& opt) const override;
  bool fused_loss() const override { return true; }
  bool linear() const override { return true; }
  bool builtin() const override { return true; }
  Tensor head_bias() const override { return bias; }
  bool tied() const { return tied_; }

  Tensor weight, bias;  // bias undefined unless requested

 private:
  bool tied_ = false;
};

class FactorizedHead : public LMHead {
 public:
  // D -> r (Linear "down", no bias) -> V (Linear "up", no bias), r >= 1 (the head's rank is
  // min(r, D, V); r < D is what makes it a bottleneck).
  FactorizedHead(int64_t d_model, int64_t rank, int64_t vocab, Generator& gen, DType dtype = kFloat32);

  Tensor forward(const Tensor& h) const override;
  Tensor head_matrix() const override { return up->weight; }  // [V, r]
  Tensor head_input(const Tensor& h) const override { return down->forward(h); }
  int64_t vocab() const override { return up->out_features; }
  int64_t d_model() const override { return down->in_features; }
  int64_t rank() const override { return down->out_features; }
  std::string kind() const override { return "factorized"; }
  // linear_cross_entropy(down(h), up.weight, targets, opt): the fused op takes the head's input
  // [N, r] and its V x r matrix, so the factorized head never holds [N, V] either; down's
  // gradient flows back through the op's dH as in the unfused graph.
  Tensor loss(const Tensor& h, const Tensor& targets, const LinearCrossEntropyOptions& opt) const override;
  bool fused_loss() const override { return true; }
  bool linear() const override { return true; }
  bool builtin() const override { return true; }

  std::shared_ptr<Linear> down, up;
};

// Names make_head() accepts, in a fixed order: {"full", "factorized", "mos", "mlp", "sigsoftmax"}.
const std::vector<std::string>& head_names();
// A kind's name ("full", "factorized", "registered"), and back: parse_head maps a registered
// head's name to HeadKind::registered, and throws "<where>: unknown head 'x' (valid: full,
// factorized[, the registered names])" for any other text.
const char* head_name(HeadKind kind);
HeadKind parse_head(const std::string& name, std::string_view where = "LMConfig");
std::ostream& operator<<(std::ostream& os, HeadKind kind);  // the name

// full (rank ignored), factorized (rank r >= 1), mos (`mixtures` components), mlp, sigsoftmax.
std::shared_ptr<LMHead> make_head(HeadKind kind, int64_t d_model, int64_t vocab, int64_t rank, Generator& gen,
                                  DType dtype = kFloat32, int64_t mixtures = 2);
// By name; unknown names throw "make_head: unknown head 'x' (valid: full, factorized)".
std::shared_ptr<LMHead> make_head(const std::string& name, int64_t d_model, int64_t vocab, int64_t rank,
                                  Generator& gen, DType dtype = kFloat32);

}  // namespace gs::nn
