// gradscope equal-norm: PAPER.md claim 4's equal-norm experiment. From a trained model (a
// checkpoint, or a short training run when none is given) and one batch: the loss decrease of a
// direct logit step -eps G/||G|| against that of the logit change one SGD step through the network
// makes, rescaled to the same Frobenius norm, over a sweep of eps. Runs in float64.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "analysis/experiments.h"
#include "demos/cli/commands.h"
#include "demos/cli/experiment_options.h"
#include "demos/cli/model_options.h"
#include "demos/cli/options.h"
#include "tokenizer/tokenizer.h"
#include "demos/cli/output.h"
#include "demos/cli/plot.h"
#include "nn/checkpoint.h"
#include "tensor/ops.h"

namespace gs::cli {
namespace {

// A float64 copy of a model (same config, every parameter and buffer converted).
std::shared_ptr<nn::LanguageModel> to_float64(const std::map<std::string, Tensor>& state, nn::LMConfig cfg) {
  cfg.dtype = kFloat64;
  auto m = nn::make_language_model(cfg);
  std::map<std::string, Tensor> s64;
  for (const auto& [k, t] : state) s64[k] = t.dtype() == kInt64 ? t : op::to(t, kFloat64);
  m->load_state(s64);
  return m;
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
  if (o.on("spamlang") && !o.str("text").empty()) throw std::runtime_error("--text and --spamlang exclude each other");
  check_tokenizer_not_with_spamlang(o);
  analysis::EqualNormConfig ecfg;
  ecfg.eps = number_list(o, "eps");
  ecfg.sgd_lr = o.number("sgd-lr");
  for (double e : ecfg.eps)
    if (!(e > 0) || !std::isfinite(e)) throw std::runtime_error("option --eps: every eps must be finite and > 0");
  if (!(ecfg.sgd_lr > 0)) throw std::runtime_error("option --sgd-lr: must be > 0");
  const int64_t B = o.integer("batch");
  int64_t T = o.integer("seq-len");
  if (B < 1 || T < 1) throw std::runtime_error("--batch and --seq-len must be >= 1");
  if (o.str("checkpoint").empty()) {  // the training here, checked before any data is read
    if (o.integer("train-steps") < 0) throw std::runtime_error("option --train-steps: must be >= 0");
    if (o.integer("train-batch") < 1) throw std::runtime_error("option --train-batch: must be >= 1");
    if (!(o.number("train-lr") > 0)) throw std::runtime_error("option --train-lr: must be > 0, got " + o.str("train-lr"));
  }
  // the outputs, before any data is read or model trained
  const std::string dir = plan_run_dir("equal-norm", o.str("out"));  // checked; made when the results exist
  check_output_file("json", o.str("json"), dir);
  // with a checkpoint the model and its training are the checkpoint's: an option that would
  // describe another one is refused, not ignored
  if (!o.str("checkpoint").empty())
    for (const char* k : {"backbone", "head", "rank", "d-model", "layers", "heads", "tied", "seed", "vocab",
                          "train-steps", "train-lr", "train-batch"})
      if (o.given(k))
        throw std::runtime_error(std::string("option --") + k + ": the model comes from --checkpoint " +
                                 o.str("checkpoint") + "; --" + k + " only describes a model trained here");

  // without a checkpoint: the model to train here (validated before any data is loaded)
  nn::LMConfig fresh;
  std::string tokenizer = o.str("tokenizer").empty() ? "byte" : o.str("tokenizer");
  const int64_t text_vocab = tok::make_tokenizer(tokenizer)->vocab_size();
  if (o.str("checkpoint").empty()) fresh = model_config_from(o, o.on("spamlang") ? o.integer("vocab") : text_vocab);
  std::shared_ptr<nn::LanguageModel> model;
  std::string source;
  int64_t trained_steps = 0;
  if (!o.str("checkpoint").empty()) {
    const nn::Checkpoint ck = nn::load_checkpoint(o.str("checkpoint"));
    const nn::LMConfig cfg = nn::LMConfig::from_map(ck.config, /*strict=*/false);
    cfg.validate();
    nn::check_config_fits_tensors(cfg, ck.model, o.str("checkpoint"));  // before any model is built
    tokenizer = checkpoint_tokenizer(o, cfg, o.str("checkpoint"));
    {
      // the checkpoint's tensors checked against the model it describes (names, shapes, dtypes,
      // finite values) before the float64 copy is made from them
      auto as_saved = nn::make_language_model(cfg);
      nn::load_model_state(ck, *as_saved);
    }
    model = to_float64(ck.model, cfg);
    source = o.str("checkpoint");
    trained_steps = ck.step;
    // --seq-len not given: the default shortened to the checkpoint's context (as analyze does)
    if (!o.given("seq-len") && cfg.backbone == "transformer") T = std::min(T, cfg.context);
  }
  // the data: text (byte tokens) or SpamLang over the model's vocabulary
  std::shared_ptr<nn::TokenStream> text;
  std::shared_ptr<analysis::SpamLang> spam;
  const int64_t vocab = model ? model->config().vocab : (o.on("spamlang") ? o.integer("vocab") : text_vocab);
  if (o.on("spamlang")) spam = std::make_shared<analysis::SpamLang>(vocab, T);
  else {
    text = std::make_shared<nn::TokenStream>(load_text_stream(o.str("text"), tokenizer));
    if (model && model->config().vocab < text->vocab_size())
      throw std::runtime_error(strf("the checkpoint's vocab %ld is smaller than the text's %ld (use --spamlang?)",
                                    long(model->config().vocab), long(text->vocab_size())));
    if (text->size() < T + 1) throw std::runtime_error("the text is shorter than --seq-len + 1 tokens");
  }
  const analysis::BatchSource data = [&](Generator& g) { return spam ? spam->sample(B, g) : text->sample(B, T, g); };
  if (!model) {
    const nn::LMConfig& cfg = fresh;
    auto m32 = nn::make_language_model(cfg);
    nn::TrainConfig tc;
    tc.steps = o.integer("train-steps");
    tc.lr = o.number("train-lr");
    tc.seed = cfg.seed;
    const int64_t tb = o.integer("train-batch");
    if (tc.steps < 0) throw std::runtime_error("option --train-steps: must be >= 0");
    if (tb < 1) throw std::runtime_error("option --train-batch: must be >= 1");
    std::printf("equal-norm: training a %s model (D=%ld, V=%ld) for %ld steps first\n", cfg.backbone.c_str(),
                long(cfg.d_model), long(vocab), long(tc.steps));
    std::fflush(stdout);
    const auto losses = analysis::train_loop(
        m32->named_parameters(), [&](const nn::Batch& b) { return m32->loss(b.inputs, b.targets); },
        [&](Generator& g) { return spam ? spam->sample(tb, g) : text->sample(tb, T, g); }, tc,
        [&](int64_t step, double loss) {
          if (step % 25 == 0 || step == tc.steps)
            std::fprintf(stderr, "  step %ld/%ld loss %.4f\n", long(step), long(tc.steps), loss);
        });
    if (!losses.empty()) std::printf("trained: loss %.3f -> %.3f\n", losses.front(), losses.back());
    model = to_float64(m32->state(), cfg);
    source = "trained here";
    trained_steps = tc.steps;
  }
  if (model->config().backbone == "transformer" && T > model->config().context)
    throw std::runtime_error(strf("--seq-len %ld exceeds the model's context %ld", long(T), long(model->config().context)));

  Generator g(static_cast<uint64_t>(o.integer("data-seed")));
  const nn::Batch batch = data(g);
  const analysis::EqualNormResult r = analysis::run_equal_norm(*model, batch, ecfg);

  using nlohmann::json;
  json points = json::array();
  for (const auto& p : r.points)
    points.push_back({{"eps", p.eps},
                      {"decrease_direct", p.decrease_direct},
                      {"decrease_network", p.decrease_network},
                      {"decrease_backbone", p.decrease_backbone},
                      {"ratio", p.ratio},
                      {"ratio_backbone", p.ratio_backbone}});
  const nn::LMConfig& mc = model->config();
  json result = {{"command", "equal-norm"},
                 {"config",
                  {{"model", source},
                   {"trained_steps", trained_steps},
                   {"backbone", mc.backbone},
                   {"head", mc.head},
                   {"rank", mc.rank},
                   {"vocab", mc.vocab},
                   {"d_model", mc.d_model},
                   {"data", spam ? "spamlang" : "text"},
                   {"batch", B},
                   {"seq_len", T},
                   {"data_seed", o.integer("data-seed")},
                   {"sgd_lr", r.sgd_lr},
                   {"dtype", "float64"},
                   {"construction",
                    "direct: Z - eps G/||G||_F; network: dZ = Z(theta - sgd_lr dL/dtheta) - Z over all parameters "
                    "(backbone: backbone parameters only), step Z + eps dZ/||dZ||_F; decrease = L(Z) - L(Z + step)"}}},
                 {"tokens", r.tokens},
                 {"loss", r.loss},
                 {"grad_norm", r.grad_norm},
                 {"dz_norm", r.dz_norm},
                 {"dz_backbone_norm", r.dz_backbone_norm},
                 {"cosine", r.cosine},
                 {"cosine_backbone", r.cosine_backbone},
                 {"first_order_ratio", r.cosine > 0 ? 1.0 / r.cosine : NAN},
                 {"first_order_ratio_backbone", r.cosine_backbone > 0 ? 1.0 / r.cosine_backbone : NAN},
                 {"points", points}};
  const std::string js = result.dump(2) + "\n";
  OutputFolder folder(dir);  // removed again if a write below fails
  write_file_atomic(dir + "/run.json", js);
  if (!o.str("json").empty()) write_file_atomic(o.str("json"), js);

  std::ostringstream csv, table;
  csv << "eps,decrease_direct,decrease_network,decrease_backbone,ratio,ratio_backbone\n";
  table << strf("%10s %15s %15s %15s %10s %10s\n", "eps", "dL direct", "dL network", "dL backbone", "ratio",
                "ratio bb");
  for (const auto& p : r.points) {
    csv << num(p.eps) << "," << num(p.decrease_direct) << "," << num(p.decrease_network) << ","
        << num(p.decrease_backbone) << "," << num(p.ratio) << "," << num(p.ratio_backbone) << "\n";
    table << strf("%10.3g %15.6g %15.6g %15.6g %10.3g %10.3g\n", p.eps, p.decrease_direct, p.decrease_network,
                  p.decrease_backbone, p.ratio, p.ratio_backbone);
  }
  write_file_atomic(dir + "/equal_norm.csv", csv.str());

  // plots: decreases (log-log where positive) and ratios over eps
  auto positive = [](const std::vector<double>& x, const std::vector<double>& y) {
    Series s;
    for (size_t i = 0; i < x.size(); ++i)
      if (y[i] > 0 && std::isfinite(y[i])) {
        s.x.push_back(x[i]);
        s.y.push_back(y[i]);
      }
    return s;
  };
  std::vector<double> eps, dd, dn, db, ra, rb;
  for (const auto& p : r.points) {
    eps.push_back(p.eps);
    dd.push_back(p.decrease_direct);
    dn.push_back(p.decrease_network);
    db.push_back(p.decrease_backbone);
    ra.push_back(p.ratio);
    rb.push_back(p.ratio_backbone);
  }
  PlotSpec dp;
  dp.title = strf("Loss decrease of a logit step of Frobenius norm eps (%s, V=%ld, D=%ld)", mc.backbone.c_str(),
                  long(mc.vocab), long(mc.d_model));
  dp.xlabel = "eps (Frobenius norm of the logit change)";
  dp.ylabel = "loss decrease (nats)";
  dp.logx = dp.logy = true;
  Series s1 = positive(eps, dd), s2 = positive(eps, dn), s3 = positive(eps, db);
  s1.title = "direct: -eps G/||G||";
  s2.title = "SGD step, all parameters";
  s3.title = "SGD step, backbone only (through dL/dH)";
  dp.series = {s1, s2, s3};
  bool png = plot(dp, dir + "/decrease");
  PlotSpec rp;
  rp.title = "Equal-norm ratio: direct decrease / network-routed decrease";
  rp.xlabel = "eps (Frobenius norm of the logit change)";
  rp.ylabel = "ratio";
  rp.logx = rp.logy = true;  // ratios from 1 (equal) up, often over a decade or more
  Series r1 = positive(eps, ra), r2 = positive(eps, rb);
  r1.title = "all parameters";
  r2.title = "backbone only";
  rp.series = {r1, r2};
  double lo = INFINITY, hi = 0;
  for (const auto* s : {&r1, &r2})
    for (double v : s->y) lo = std::min(lo, v), hi = std::max(hi, v);
  if (hi > 0) {  // from 1 (the two steps equally good) to above the largest ratio
    rp.ymin = std::min(1.0, lo);
    rp.ymax = std::max(hi * 2, 10.0);
  }
  png = plot(rp, dir + "/ratio") && png;

  std::printf("equal-norm: %s model (%s, V=%ld, D=%ld), %ld tokens, loss %.4f, ||G||_F %.4g\n", source.c_str(),
              mc.backbone.c_str(), long(mc.vocab), long(mc.d_model), long(r.tokens), r.loss, r.grad_norm);
  std::printf("cos(dZ, -G): all parameters %.4f (first-order ratio %.3g), backbone only %.4f (%.3g)\n\n%s", r.cosine,
              1.0 / r.cosine, r.cosine_backbone, 1.0 / r.cosine_backbone, table.str().c_str());
  std::printf("wrote %s/run.json, equal_norm.csv%s\n", dir.c_str(), png ? ", decrease.png, ratio.png" : "");
  folder.keep();
  return 0;
}

}  // namespace gs::cli
