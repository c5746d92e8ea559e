// gradscope remedies: every head on the same backbone, data and recipe, each measured exactly
// (analysis/remedies.h): held-out text loss, ms per step, the exact destroyed fraction (per-token
// Jacobian for heads that are not linear), the leak test, and SpamLang accuracy at V/D = 64 and 256.
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "analysis/remedies.h"
#include "demos/cli/commands.h"
#include "demos/cli/experiment_options.h"
#include "demos/cli/model_options.h"
#include "demos/cli/options.h"
#include "demos/cli/output.h"
#include "demos/cli/reports.h"

namespace gs::cli {
namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  if (out.empty()) throw std::runtime_error("option --compare: give at least one head");
  return out;
}

// --quick shrinks every default that the user did not set; an explicit value always wins.
int64_t pick(const Options& o, const char* name, int64_t quick) {
  return o.on("quick") && !o.given(name) ? quick : o.integer(name);
}

analysis::RemediesConfig remedies_config(const Options& o) {
  analysis::RemediesConfig c;
  c.heads = split_commas(o.str("compare"));
  c.model.backbone = nn::parse_backbone(o.str("backbone"));
  c.model.d_model = pick(o, "d-model", 8);
  c.model.n_layer = o.integer("layers");
  c.model.n_head = o.integer("heads");
  c.model.mixtures = o.integer("mixtures");
  c.model.seed = static_cast<uint64_t>(o.integer("seed"));
  c.model.tokenizer = o.str("tokenizer");
  c.text_steps = pick(o, "steps", 60);
  c.batch = o.integer("batch");
  c.seq_len = o.integer("seq-len");
  c.model.context = c.seq_len;
  c.lr = o.number("lr");
  c.spamlang_ratios = int_list(o, "spamlang-ratios");
  c.spamlang_steps = pick(o, "spamlang-steps", 100);
  c.log = [](const std::string& line) {
    std::printf("  %s\n", line.c_str());
    std::fflush(stdout);
  };
  if (o.integer("seed") < 0) throw std::runtime_error("option --seed: must be >= 0");
  return c;
}

}  // namespace

int run_remedies(const Args& args) {
  Options o("remedies",
            "Every head (full, factorized at a matched parameter budget, mos, mlp, sigsoftmax, or any registered\n"
            "head) on the same backbone, text and recipe: held-out loss, ms per step, the exact destroyed fraction\n"
            "(the per-token Jacobian metric for heads that are not linear), the leak test, and SpamLang accuracy\n"
            "at V = ratio x D. --quick: D 8, 60 text steps, 100 SpamLang steps (a few minutes on 2 cores).");
  o.add("compare", "full,factorized,mos,mlp,sigsoftmax", "comma-separated heads to compare")
      .flag("quick", "small defaults for a run of a few minutes (explicit options still win)")
      .add("text", "", "training text file (default: Debian's fortunes corpus); ids from --tokenizer")
      .add("backbone", "transformer", "transformer | gru | ssm")
      .add("d-model", "16", "hidden width D of every model")
      .add("layers", "1", "backbone layers")
      .add("heads", "2", "attention heads (transformer)")
      .add("mixtures", "2", "softmax components K of the mos head")
      .add("steps", "300", "text training steps per head")
      .add("batch", "16", "sequences per text step")
      .add("seq-len", "32", "tokens per text sequence")
      .add("lr", "3e-3", "peak learning rate (AdamW, warmup + cosine)")
      .add("spamlang-ratios", "64,256", "V / D of the SpamLang runs (comma-separated; each V = ratio x D)")
      .add("spamlang-steps", "300", "SpamLang steps (at least enough to show every symbol twice)")
      .add("seed", "0", "seed for initialisation and data (every head sees the same batches)")
      .add("json", "", "also write {\"heads\": [...]} to this file")
      .add("out", "", "output folder (default ./gradscope-out/remedies-<timestamp>)");
  add_tokenizer_option(o);
  if (!o.parse(args)) return 0;
  const analysis::RemediesConfig cfg = remedies_config(o);
  for (const auto& h : cfg.heads) nn::parse_head(h, "--compare");  // before any data is read
  const nn::TokenStream text = load_text_stream(o.str("text"), o.str("tokenizer"));
  const std::string dir = plan_run_dir("remedies", o.str("out"));
  check_output_file("json", o.str("json"), dir);
  std::printf("remedies: %s, %s backbone D=%ld, %ld text steps on %s (%s, V=%ld), SpamLang V/D %s -> %s\n",
              o.str("compare").c_str(), nn::backbone_name(cfg.model.backbone), long(cfg.model.d_model),
              long(cfg.text_steps), o.str("text").empty() ? "the fortunes corpus" : o.str("text").c_str(),
              o.str("tokenizer").c_str(), long(text.vocab_size()), o.str("spamlang-ratios").c_str(), dir.c_str());
  std::fflush(stdout);
  const std::vector<analysis::RemedyRun> runs = analysis::run_remedies(cfg, text);
  report_remedies(cfg, runs, dir, o.str("json"));
  return 0;
}

}  // namespace gs::cli
