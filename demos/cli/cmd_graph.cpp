// gradscope graph: the autograd graph of one training step of a small model, as Graphviz dot.
// Arrows follow the forward pass (input -> the op that consumes it); the backward pass that
// --grads annotates sends gradients against them. The batch is one fixed sequence (tokens t mod V,
// targets (t + 1) mod V), so the graph, its node ids (backbone.blocks.0.attn.q, head.logits,
// backbone.blocks.0.attn.permute#2, ...) and its optional values are the same on every run.
// The .dot file is written atomically; a PNG is rendered next to it with `dot -Tpng` when Graphviz
// is on PATH, otherwise the command prints the line that renders it.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "autograd/dot.h"
#include "autograd/ops.h"
#include "demos/cli/commands.h"
#include "demos/cli/options.h"
#include "demos/cli/output.h"
#include "nn/lm.h"
#include "tensor/ops.h"
#include "tokenizer/tokenizer.h"

namespace gs::cli {
namespace {

std::string shell_quote(const std::string& s) {  // one single-quoted shell word
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string png_path(const std::string& dot_path) {
  const size_t n = dot_path.size();
  return n > 4 && dot_path.compare(n - 4, 4, ".dot") == 0 ? dot_path.substr(0, n - 4) + ".png" : dot_path + ".png";
}

// The backbone --backbone names (checked), or --model's, its old spelling (gpt = transformer).
std::string backbone_option(const Options& o) {
  const std::string backbone = o.str("backbone");
  nn::parse_backbone(backbone, "--backbone");  // refused before any work, in the option's words
  if (!o.given("model")) return backbone;
  const std::string model = o.str("model");
  const std::string as_backbone = model == "gpt" ? "transformer" : model;
  nn::parse_backbone(as_backbone, "--model");
  if (o.given("backbone") && backbone != as_backbone)
    throw Error("--model " + model + " and --backbone " + backbone +
                " disagree (--model is the old name of --backbone: give only --backbone)");
  return as_backbone;
}

// The small model --backbone and the sizes describe. With --tokenizer gpt2, `sentence` receives the
// GPT-2 ids of a short sentence (the sequence is cut from them) and V is at least the tokenizer's.
nn::LMConfig graph_model(const Options& o, const std::string& backbone, std::vector<int64_t>& sentence) {
  nn::LMConfig c;
  c.backbone = nn::parse_backbone(backbone);
  c.vocab = o.integer("vocab");
  c.d_model = o.integer("d-model");
  c.n_layer = o.integer("layers");
  c.n_head = o.integer("heads");
  c.context = o.integer("seq-len");
  c.mlp_ratio = 2;  // a narrow MLP keeps the picture small; the node structure is the same
  c.seed = static_cast<uint64_t>(o.integer("seed"));
  c.tokenizer = o.str("tokenizer");
  if (c.tokenizer != "byte") {
    const auto tk = tok::make_tokenizer(c.tokenizer);
    sentence = tk->encode("The head is a gradient bottleneck: most of the logit gradient never reaches the backbone.");
    c.vocab = std::max(c.vocab, tk->vocab_size());
  }
  if (c.vocab < 2) throw Error("graph: --vocab must be at least 2");
  if (c.d_model % c.width_multiple() != 0)
    throw Error("graph: --d-model (" + std::to_string(c.d_model) + ") must be a multiple of --heads (" +
                std::to_string(c.n_head) + ")");
  c.validate();
  return c;
}

// The one training sequence [1, T] and its targets: ids t mod V and (t + 1) mod V, or the
// sentence's next-token pairs, cycling when T is longer.
std::pair<Tensor, Tensor> one_sequence(const nn::LMConfig& c, const std::vector<int64_t>& sentence) {
  const int64_t T = c.context;
  std::vector<int64_t> tok(T), tgt(T);
  for (int64_t t = 0; t < T; ++t) {
    if (sentence.empty()) {
      tok[t] = t % c.vocab;
      tgt[t] = (t + 1) % c.vocab;
    } else {
      const size_t i = static_cast<size_t>(t) % (sentence.size() - 1);
      tok[t] = sentence[i];
      tgt[t] = sentence[i + 1];
    }
  }
  return {from_vector(tok, {1, T}), from_vector(tgt, {1, T})};
}

bool dot_available() { return std::system("command -v dot >/dev/null 2>&1") == 0; }

// Renders through a temporary file renamed into place, like every other output file.
bool render_png(const std::string& dot_file, const std::string& png) {
  const std::string tmp = png + ".tmp";
  const std::string cmd = "dot -Tpng " + shell_quote(dot_file) + " -o " + shell_quote(tmp) + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0 || std::rename(tmp.c_str(), png.c_str()) != 0) {
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

// A recorded |grad| at most this fraction of the largest is float rounding of an exact 0 (float32
// rounding is ~1e-7 relative): the dot labels mark it and the command prints a note.
constexpr double kRoundingLevel = 1e-6;

// The ids of the nodes and parameters whose recorded |grad| is at rounding level (an exact 0,
// e.g. a GRU's first step multiplying the zero initial state, prints as 0 and is not listed).
std::vector<std::string> rounding_level(const Tensor& loss, const GradNormRecorder& rec) {
  double largest = 0;
  for (const auto& [n, g] : rec.nodes) largest = std::max(largest, g);
  for (const auto& [m, g] : rec.leaves) largest = std::max(largest, g);
  const GraphIds ids = graph_ids(loss);
  std::vector<std::string> out;
  for (const auto& [n, g] : rec.nodes)
    if (g > 0 && g <= kRoundingLevel * largest) out.push_back(ids.of(n));
  for (const auto& [m, g] : rec.leaves)
    if (g > 0 && g <= kRoundingLevel * largest) out.push_back(ids.of(m));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

int run_graph(const Args& args) {
  Options o("graph",
            "Write the autograd graph of one forward + backward of a small model as Graphviz dot (and a PNG next\n"
            "to it when Graphviz's `dot` is installed). Arrows point the forward way, from an input to the op\n"
            "that uses it; the backward pass sends gradients against them, and --grads labels every node with\n"
            "the norm of the gradient it received. Nodes and parameters are labelled by unique ids: a name that\n"
            "several carry becomes name#1, name#2, ... in creation order.\n"
            "The defaults (V = 32 > D = 8) make the head W [V, D] a bottleneck: the part of the logit gradient\n"
            "outside W's 8-dimensional column space is multiplied to zero on its way to the hidden states (with\n"
            "V = D nothing would be). A |grad| marked \"(~0: rounding)\" is below 1e-6 of the largest, float\n"
            "rounding of a gradient that is 0 in exact arithmetic: e.g. an attention key bias b_k adds q . b_k\n"
            "to every score in query q's row, and softmax does not change when one constant is added to a\n"
            "whole row, so the loss does not depend on b_k.");
  o.add("backbone", "transformer", "transformer | gru | ssm (the head is a full V x D matrix)")
      .add("model", "", "deprecated: the old name of --backbone (gpt = transformer, gru, ssm)")
      .add("layers", "1", "backbone layers")
      .add("d-model", "8", "hidden width D")
      .add("heads", "2", "attention heads (transformer)")
      .add("vocab", "32", "vocabulary size V (above D, so that the head destroys part of the logit gradient)")
      .add("seq-len", "4", "tokens in the one training sequence")
      .add("seed", "0", "seed of the initialisation")
      .flag("values", "print the forward values of outputs with at most --max-values elements")
      .add("max-values", "8", "largest output whose values --values prints")
      .flag("grads", "print the norm of the gradient each node and parameter received in the backward pass "
                     "(\"(~0: rounding)\": exactly 0 by a symmetry, printed as float rounding)")
      .add("out", "graph.dot", "the .dot file to write (the PNG gets the same name with .png)")
      .add("tokenizer", "byte",
           "byte: the sequence is the ids 0, 1, 2, ... mod V; gpt2: the GPT-2 ids of a short sentence, V = 50257");
  if (!o.parse(args)) return 0;
  const std::string backbone = backbone_option(o), out = o.str("out");
  if (out.empty()) throw Error("graph: --out is empty (give the .dot file to write)");
  check_output_file("out", out);
  if (o.integer("max-values") < 1) throw Error("graph: --max-values must be at least 1");

  std::vector<int64_t> sentence;  // gpt2: the ids the sequence is cut from
  const nn::LMConfig c = graph_model(o, backbone, sentence);
  auto lm = nn::make_language_model(c);
  const int64_t T = c.context;
  const auto [tokens, targets] = one_sequence(c, sentence);
  // The unfused loss: the graph shows the head's logits node (head.logits) and cross_entropy, which
  // the fused default folds into one linear_cross_entropy node.
  nn::LossOptions unfused;
  unfused.fused = false;
  const Tensor loss = lm->loss(tokens, targets, unfused);
  GradNormRecorder rec;
  {
    ObserverScope scope(rec);
    backward(loss, Tensor(), /*retain_graph=*/o.on("values"));  // saved tensors keep values alive
  }
  DotOptions d;
  d.values = o.on("values");
  d.max_values = o.integer("max-values");
  d.grads = o.on("grads") ? &rec : nullptr;
  d.negligible = kRoundingLevel;
  d.title = backbone + ", " + std::to_string(c.n_layer) + " layer(s), V=" + std::to_string(c.vocab) +
            ", D=" + std::to_string(c.d_model) + ", T=" + std::to_string(T) +
            ": the graph of the loss; arrows point forward (input -> op), gradients flow against them";
  if (d.grads) d.title += "; |grad|: the norm each node received in the backward pass";
  write_file_atomic(out, to_dot(loss, d));
  std::printf("graph: %zu op nodes, %zu parameters that received a gradient -> %s (arrows forward, from an input "
              "to the op using it)\n",
              rec.nodes.size(), rec.leaves.size(), out.c_str());
  if (d.grads) {
    const std::vector<std::string> zero = rounding_level(loss, rec);
    if (!zero.empty()) {
      std::string list;
      for (const auto& id : zero) list += (list.empty() ? "" : ", ") + id;
      const bool key_bias = std::any_of(zero.begin(), zero.end(),
                                        [](const std::string& id) { return id.find("attn.k.bias") != std::string::npos; });
      std::printf("note: |grad| below 1e-6 of the largest, float rounding (marked \"~0: rounding\"), at %s%s\n",
                  list.c_str(),
                  key_bias ? ". A key bias's exact gradient is 0: b_k adds q . b_k to every score in query q's row, "
                             "and softmax does not change when one constant is added to a whole row, so the loss "
                             "does not depend on b_k"
                           : "");
    }
  }
  const std::string png = png_path(out);
  const std::string render = "dot -Tpng " + shell_quote(out) + " -o " + shell_quote(png);
  if (!dot_available())
    std::printf("Graphviz `dot` not found (scripts/setup installs Debian's graphviz); render with: %s\n",
                render.c_str());
  else if (render_png(out, png))
    std::printf("rendered %s\n", png.c_str());
  else
    std::printf("dot failed to render %s; the .dot file is written; try: %s\n", png.c_str(), render.c_str());
  return 0;
}

}  // namespace gs::cli
