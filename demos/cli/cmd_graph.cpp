// gradscope graph: the backward graph of one training step of a small model, as Graphviz dot.
// The batch is one fixed sequence (tokens t mod V, targets (t + 1) mod V), so the graph, its node
// names (backbone.blocks.0.attn.q, head.logits, ...) and its optional values are the same on every run.
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

// The small model --model and the sizes describe. With --tokenizer gpt2, `sentence` receives the
// GPT-2 ids of a short sentence (the sequence is cut from them) and V is at least the tokenizer's.
nn::LMConfig graph_model(const Options& o, std::vector<int64_t>& sentence) {
  const std::string model = o.str("model");
  nn::LMConfig c;
  c.backbone = nn::parse_backbone(model == "gpt" ? "transformer" : model);
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

}  // namespace

int run_graph(const Args& args) {
  Options o("graph", "Write the backward graph of one forward + backward of a small model as Graphviz dot "
                     "(and a PNG next to it when Graphviz's `dot` is installed).");
  o.add("model", "gpt", "gpt | gru | ssm (the backbone; the head is a full V x D matrix)")
      .add("layers", "1", "backbone layers")
      .add("d-model", "8", "hidden width D")
      .add("heads", "2", "attention heads (gpt)")
      .add("vocab", "8", "vocabulary size V")
      .add("seq-len", "4", "tokens in the one training sequence")
      .add("seed", "0", "seed of the initialisation")
      .flag("values", "print the forward values of outputs with at most --max-values elements")
      .add("max-values", "8", "largest output whose values --values prints")
      .flag("grads", "print the norm of the gradient each node and parameter received in the backward pass")
      .add("out", "graph.dot", "the .dot file to write (the PNG gets the same name with .png)")
      .add("tokenizer", "byte",
           "byte: the sequence is the ids 0, 1, 2, ... mod V; gpt2: the GPT-2 ids of a short sentence, V = 50257");
  if (!o.parse(args)) return 0;
  const std::string model = o.str("model"), out = o.str("out");
  if (model != "gpt" && model != "gru" && model != "ssm")
    throw Error("graph: --model must be gpt, gru or ssm (got '" + model + "')");
  if (out.empty()) throw Error("graph: --out is empty (give the .dot file to write)");
  check_output_file("out", out);
  if (o.integer("max-values") < 1) throw Error("graph: --max-values must be at least 1");

  std::vector<int64_t> sentence;  // gpt2: the ids the sequence is cut from
  const nn::LMConfig c = graph_model(o, sentence);
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
  d.title = model + ", " + std::to_string(c.n_layer) + " layer(s), V=" + std::to_string(c.vocab) +
            ", D=" + std::to_string(c.d_model) + ", T=" + std::to_string(T) + ": backward graph of the loss";
  write_file_atomic(out, to_dot(loss, d));
  std::printf("graph: %zu op nodes, %zu parameters that received a gradient -> %s\n", rec.nodes.size(),
              rec.leaves.size(), out.c_str());
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
