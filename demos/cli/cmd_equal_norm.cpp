// gradscope equal-norm: PAPER.md claim 4's equal-norm experiment. From a trained model (a
// checkpoint, or a short training run when none is given) and one batch: the loss decrease of a
// direct logit step -eps G/||G|| against that of the logit change one SGD step through the network
// makes, rescaled to the same Frobenius norm, over a sweep of eps. Runs in float64.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include "analysis/experiments.h"
#include "demos/cli/commands.h"
#include "demos/cli/experiment_options.h"
#include "demos/cli/model_options.h"
#include "demos/cli/options.h"
#include "demos/cli/output.h"
#include "demos/cli/reports.h"
#include "nn/checkpoint.h"
#include "tokenizer/tokenizer.h"

namespace gs::cli {
namespace {

// The step norms and the SGD step, and every other option checked before any data is read.
analysis::EqualNormConfig equal_norm_config(const Options& o) {
  if (o.on("spamlang") && !o.str("text").empty()) throw std::runtime_error("--text and --spamlang exclude each other");
  check_tokenizer_not_with_spamlang(o);
  analysis::EqualNormConfig ecfg;
  ecfg.eps = number_list(o, "eps");
  ecfg.sgd_lr = o.number("sgd-lr");
  for (double e : ecfg.eps)
    if (!(e > 0) || !std::isfinite(e)) throw std::runtime_error("option --eps: every eps must be finite and > 0");
  if (!(ecfg.sgd_lr > 0)) throw std::runtime_error("option --sgd-lr: must be > 0");
  if (o.integer("batch") < 1 || o.integer("seq-len") < 1) throw std::runtime_error("--batch and --seq-len must be >= 1");
  if (o.str("checkpoint").empty()) {  // the training here, checked before any data is read
    if (o.integer("train-steps") < 0) throw std::runtime_error("option --train-steps: must be >= 0");
    if (o.integer("train-batch") < 1) throw std::runtime_error("option --train-batch: must be >= 1");
    if (!(o.number("train-lr") > 0)) throw std::runtime_error("option --train-lr: must be > 0, got " + o.str("train-lr"));
  }
  return ecfg;
}

// With a checkpoint the model and its training are the checkpoint's: an option that would
// describe another one is refused, not ignored.
void refuse_model_options(const Options& o) {
  for (const char* k : {"backbone", "head", "rank", "d-model", "layers", "heads", "tied", "seed", "vocab",
                        "train-steps", "train-lr", "train-batch"})
    if (o.given(k))
      throw std::runtime_error(std::string("option --") + k + ": the model comes from --checkpoint " +
                               o.str("checkpoint") + "; --" + k + " only describes a model trained here");
}

// The data of the batch (and of a model trained here): SpamLang over the model's vocabulary, or text.
struct Data {
  std::shared_ptr<nn::TokenStream> text;
  std::shared_ptr<analysis::SpamLang> spam;
  nn::Batch sample(int64_t batch, int64_t seq_len, Generator& g) const {
    return spam ? spam->sample(batch, g) : text->sample(batch, seq_len, g);
  }
};

Data load_data(const Options& o, int64_t vocab, int64_t T, const std::string& tokenizer, bool checkpoint) {
  Data d;
  if (o.on("spamlang")) {
    d.spam = std::make_shared<analysis::SpamLang>(vocab, T);
    return d;
  }
  d.text = std::make_shared<nn::TokenStream>(load_text_stream(o.str("text"), tokenizer));
  if (checkpoint && vocab < d.text->vocab_size())
    throw std::runtime_error(strf("the checkpoint's vocab %ld is smaller than the text's %ld (use --spamlang?)",
                                  long(vocab), long(d.text->vocab_size())));
  if (d.text->size() < T + 1) throw std::runtime_error("the text is shorter than --seq-len + 1 tokens");
  return d;
}

// The model measured, in float64, and where it came from.
struct Measured {
  std::shared_ptr<nn::LanguageModel> model;
  std::string source;
  int64_t trained_steps = 0;
};

// The checkpoint's model. Its tokenizer replaces `tokenizer` (a different --tokenizer is
// refused); without --seq-len, T is shortened to the model's context (as analyze does).
Measured from_checkpoint(const Options& o, std::string& tokenizer, int64_t& T) {
  const std::string path = o.str("checkpoint");
  const nn::Checkpoint ck = nn::load_checkpoint(path);
  const nn::LMConfig cfg = nn::checkpoint_model_config(ck);  // before any model is built
  tokenizer = checkpoint_tokenizer(o, cfg, path);
  // the tensors checked against the model they describe (names, shapes, dtypes, finite values)
  // before the float64 copy is made from them
  const auto as_saved = nn::load_language_model(ck, cfg);
  if (!o.given("seq-len")) T = std::min(T, cfg.max_seq_len());
  return {nn::copy_language_model(*as_saved, kFloat64), path, ck.step};
}

// A model of cfg trained here (float32, --train-steps steps of --train-batch sequences).
Measured train_here(const Options& o, const nn::LMConfig& cfg, const Data& data, int64_t T) {
  auto m32 = nn::make_language_model(cfg);
  nn::TrainConfig tc;
  tc.steps = o.integer("train-steps");
  tc.lr = o.number("train-lr");
  tc.seed = cfg.seed;
  const int64_t tb = o.integer("train-batch");
  std::printf("equal-norm: training a %s model (D=%ld, V=%ld) for %ld steps first\n", nn::backbone_name(cfg.backbone),
              long(cfg.d_model), long(cfg.vocab), long(tc.steps));
  std::fflush(stdout);
  const auto losses = analysis::train_loop(
      m32->named_parameters(), [&](const nn::Batch& b) { return m32->loss(b.inputs, b.targets); },
      [&](Generator& g) { return data.sample(tb, T, g); }, tc,
      [&](int64_t step, double loss) {
        if (step % 25 == 0 || step == tc.steps)
          std::fprintf(stderr, "  step %ld/%ld loss %.4f\n", long(step), long(tc.steps), loss);
      });
  if (!losses.empty()) std::printf("trained: loss %.3f -> %.3f\n", losses.front(), losses.back());
  return {nn::copy_language_model(*m32, kFloat64), "trained here", tc.steps};
}

}  // namespace

int run_equal_norm(const Args& args) {
  Options o("equal-norm",
            "Compare, at one batch, the loss decrease of the direct logit step Z - eps G/||G||_F with that of the\n"
            "logit change dZ one SGD step through the network makes (all parameters; and the backbone alone, i.e.\n"
            "routed through dL/dH), rescaled to the same Frobenius norm eps. Without --checkpoint a model is first\n"
            "trained for --train-steps steps on the text. Computed in float64.");
  add_model_options(o);
  o.add("checkpoint", "", "a checkpoint written by `gradscope train` (default: train a model here)")
      .add("text", "", "text file for the batch and the training (default: Debian's fortunes corpus)")
      .flag("spamlang", "draw the batch (and the training data) from SpamLang over the model's vocabulary")
      .add("vocab", "256", "SpamLang vocabulary size when training here with --spamlang")
      .add("train-steps", "100", "training steps when no checkpoint is given")
      .add("train-lr", "3e-3", "learning rate of that training")
      .add("train-batch", "16", "sequences per step of that training")
      .add("batch", "8", "sequences in the evaluation batch")
      .add("eps", "1e-3,1e-2,1e-1,1,10,100", "comma-separated step norms eps (Frobenius norm of the logit change)")
      .add("sgd-lr", "1e-3", "learning rate of the SGD step that defines dZ (normalised away; small keeps it linear)")
      .add("data-seed", "12345", "seed of the evaluation batch")
      .add("json", "", "also write the result JSON to this file")
      .add("out", "", "output folder (default ./gradscope-out/equal-norm-<timestamp>)");
  add_tokenizer_option(o, /*for_checkpoint=*/true);
  if (!o.parse(args)) return 0;
  const analysis::EqualNormConfig ecfg = equal_norm_config(o);
  const int64_t B = o.integer("batch");
  int64_t T = o.integer("seq-len");
  // the outputs, before any data is read or model trained
  const std::string dir = plan_run_dir("equal-norm", o.str("out"));  // checked; made when the results exist
  check_output_file("json", o.str("json"), dir);
  const bool checkpoint = !o.str("checkpoint").empty();
  if (checkpoint) refuse_model_options(o);

  // without a checkpoint: the model to train here (validated before any data is loaded)
  std::string tokenizer = o.str("tokenizer").empty() ? "byte" : o.str("tokenizer");
  const int64_t text_vocab = tok::make_tokenizer(tokenizer)->vocab_size();
  nn::LMConfig fresh;
  if (!checkpoint) fresh = model_config_from(o, o.on("spamlang") ? o.integer("vocab") : text_vocab);
  Measured m;
  if (checkpoint) m = from_checkpoint(o, tokenizer, T);
  const Data data = load_data(o, checkpoint ? m.model->config().vocab : fresh.vocab, T, tokenizer, checkpoint);
  if (!checkpoint) m = train_here(o, fresh, data, T);
  if (T > m.model->max_seq_len())
    throw std::runtime_error(strf("--seq-len %ld exceeds the model's context %ld", long(T), long(m.model->max_seq_len())));

  Generator g(static_cast<uint64_t>(o.integer("data-seed")));
  const analysis::EqualNormResult r = analysis::run_equal_norm(*m.model, data.sample(B, T, g), ecfg);
  report_equal_norm({.model = m.model->config(),
                     .source = m.source,
                     .data = o.on("spamlang") ? "spamlang" : "text",
                     .trained_steps = m.trained_steps,
                     .batch = B,
                     .seq_len = T,
                     .data_seed = o.integer("data-seed")},
                    r, dir, o.str("json"));
  return 0;
}

}  // namespace gs::cli
