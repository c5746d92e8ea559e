// gradscope analyze: how much of the exact logit gradient an LM head lets through.
//
//   gradscope analyze --head W.npy --hidden H.npy --targets y.npy [--chunk N] [--topk K] [--json F]
//   gradscope analyze --checkpoint model.safetensors [--text FILE] [--batch B] [--seq-len T] ...
//
// The first form reads the head matrix W [V, D], the hidden states H [N, D] entering it and the
// targets y [N] (int32/int64, -100 = ignored) from NumPy files and runs analysis::head_metrics.
// The second loads a checkpoint written by `gradscope train`, runs the model on one batch of the
// text, takes G = dL/dlogits from the real backward pass, H = head_input(hidden) and
// W = head_matrix(), and adds the node trace and the leak test (analysis/node_trace.h).
//
// Every input is checked before any work (shapes, target range, NaN/Inf, the files themselves);
// a problem throws one message naming the file, main() prints it and exits with code 2, and the
// JSON file is written (atomically) only after everything succeeded.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "analysis/head_bottleneck.h"
#include "analysis/head_json.h"
#include "analysis/jacobian_metric.h"
#include "analysis/node_trace.h"
#include "autograd/ops.h"
#include "demos/cli/commands.h"
#include "demos/cli/device_option.h"
#include "demos/cli/model_options.h"
#include "demos/cli/options.h"
#include "demos/cli/output.h"
#include "nn/checkpoint.h"
#include "nn/data.h"
#include "nn/device.h"
#include "nn/lm.h"
#include "nn/npy.h"
#include "tensor/ops.h"

namespace gs::cli {
namespace {

constexpr int64_t kIgnoreIndex = -100;

// ---- input checks: each names the file -------------------------------------------------------

template <class T>
void check_finite_typed(const std::string& path, const char* what, const Tensor& t) {
  const T* p = t.data<T>();
  const int64_t n = t.numel(), cols = t.dim() == 2 ? t.size(1) : 1;
  int64_t bad = 0, first = -1;
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i])) {
      if (first < 0) first = i;
      ++bad;
    }
  if (bad == 0) return;
  const T v = p[first];
  fail(path, what, " ", shape_str(t.shape()), " has ", std::isnan(v) ? "NaN" : "Inf", " at [", first / cols, ", ",
       first % cols, "] (", bad, " non-finite value", bad == 1 ? "" : "s", " in all)");
}

void check_finite(const std::string& path, const char* what, const Tensor& t) {
  if (t.dtype() == kFloat32) check_finite_typed<float>(path, what, t);
  else check_finite_typed<double>(path, what, t);
}

// A float32/float64 matrix from a .npy file (load_npy's own errors already start with the path).
Tensor load_matrix(const std::string& path, const char* what, const char* dims) {
  Tensor t = nn::load_npy(path);
  if (!is_floating(t.dtype()))
    fail(path, what, " must be float32 or float64, got ", dtype_name(t.dtype()));
  if (t.dim() != 2) fail(path, what, " must be 2-d ", dims, ", got shape ", shape_str(t.shape()));
  check_finite(path, what, t);
  return t;
}

struct FileInputs {
  Tensor H, W, y;
};

FileInputs load_file_inputs(const std::string& h_path, const std::string& w_path, const std::string& y_path) {
  FileInputs in;
  in.W = load_matrix(w_path, "head matrix W", "[V, D]");
  in.H = load_matrix(h_path, "hidden states H", "[N, D]");
  in.y = nn::load_npy(y_path);
  if (in.y.dtype() != kInt64)
    fail(y_path, "targets must be integers (int32 or int64), got ", dtype_name(in.y.dtype()));
  if (in.y.dim() != 1) fail(y_path, "targets must be 1-d [N], got shape ", shape_str(in.y.shape()));

  const int64_t V = in.W.size(0), D = in.W.size(1), N = in.H.size(0);
  if (V == 0 || D == 0) fail(w_path, "head matrix W ", shape_str(in.W.shape()), " is empty");
  if (N == 0) fail(h_path, "hidden states H ", shape_str(in.H.shape()), " have no rows");
  if (in.H.size(1) != D)
    fail(h_path, "hidden states H ", shape_str(in.H.shape()), " and head matrix W ", shape_str(in.W.shape()), " in ",
         w_path, " disagree on D (H must be [N, D] for W [V, D])");
  if (in.y.size(0) != N)
    fail(y_path, "targets ", shape_str(in.y.shape()), " do not match hidden states H ", shape_str(in.H.shape()), " in ",
         h_path, " (one target per row: need [", N, "])");
  const int64_t* t = in.y.data<int64_t>();
  int64_t bad = 0, first = -1, valid = 0;
  for (int64_t i = 0; i < N; ++i) {
    if (t[i] == kIgnoreIndex) continue;
    if (t[i] < 0 || t[i] >= V) {
      if (first < 0) first = i;
      ++bad;
    } else {
      ++valid;
    }
  }
  if (bad > 0)
    fail(y_path, "target ", t[first], " at index ", first, " is outside [0, V) for V = ", V, " (W ",
         shape_str(in.W.shape()), " in ", w_path, ") and is not the ignore index ", kIgnoreIndex, " (", bad,
         " bad target", bad == 1 ? "" : "s", " in all)");
  if (valid == 0) fail(y_path, "no valid targets: all ", N, " are the ignore index ", kIgnoreIndex);
  // Mixed precision: compute in float64 (the accumulators are float64 either way).
  if (in.H.dtype() != in.W.dtype()) {
    in.H = op::to(in.H, kFloat64);
    in.W = op::to(in.W, kFloat64);
  }
  return in;
}

// ---- the table ----------------------------------------------------------------------------------

std::string count_or_more(int64_t c, int64_t k) { return c < 0 ? "> " + std::to_string(k) : std::to_string(c); }

void print_metrics(const analysis::HeadMetrics& m, DType dtype) {
  std::printf("head metrics: %ld tokens, V = %ld, D = %ld (rank of W used: %ld), %s, chunk %ld rows\n",
              static_cast<long>(m.tokens), static_cast<long>(m.vocab), static_cast<long>(m.dim),
              static_cast<long>(m.basis_rank), std::string(dtype_name(dtype)).c_str(), static_cast<long>(m.run.chunk));
  std::printf("  %-34s %.6g\n", "loss", m.loss);
  std::printf("  %-34s %.6g\n", "logit gradient ||G||_F", m.logit_grad_norm);
  std::printf("  %-34s %.6g\n", "visible ||G Q||_F", m.visible_norm);
  std::printf("  %-34s %.6f (%s)\n", "destroyed fraction", m.destroyed_fraction,
              m.metric == "jacobian" ? "per-token Jacobian metric: the head is not linear"
                                     : "column-space metric: exact for a linear head");
  std::printf("  %-34s %.6f\n", "visible cosine", m.visible_cosine);
  std::printf("  %-34s mean %.4f  p5 %.4f  p50 %.4f  p95 %.4f\n", "per-token destroyed fraction", m.per_token.mean,
              m.per_token.p5, m.per_token.p50, m.per_token.p95);
  std::printf("  one SGD step on H and W, logit change -eta U, U = G W W^T + H H^T G:\n");
  std::printf("    %-32s %.6f\n", "cosine(U, G)", m.update.cosine);
  std::printf("    %-32s %.6g\n", "backbone term ||G W W^T||_F", m.update.backbone_term_norm);
  std::printf("    %-32s %.6g\n", "head term ||H H^T G||_F", m.update.head_term_norm);
  std::printf("    %-32s %ld\n", "rank bound 2D", static_cast<long>(m.update.rank_bound));
  const auto& s = m.spectrum;
  if (s.topk == 0) {
    std::printf("  spectrum of G: not computed (--topk 0)\n");
  } else {
    if (s.exact)
      std::printf("  spectrum of G: top %ld of all %ld singular values (exact: Gram matrix, LAPACK)\n",
                  static_cast<long>(s.topk), static_cast<long>(s.columns));
    else
      std::printf("  spectrum of G: top %ld singular values (randomized SVD, %ld columns, %d passes; residual "
                  "||G - G P||/||G|| %.3g, value error ~%.1e estimated)\n",
                  static_cast<long>(s.topk), static_cast<long>(s.columns), s.passes, s.residual, s.value_error);
    std::string first;
    for (size_t i = 0; i < s.singular_values.size() && i < 6; ++i) {
      char b[32];
      std::snprintf(b, sizeof b, "%s%.4g", i ? "  " : "", s.singular_values[i]);
      first += b;
    }
    if (s.singular_values.size() > 6) first += "  ...";
    std::printf("    %-32s %s\n", "sigma_1, sigma_2, ...", first.c_str());
    std::printf("    %-32s %s / %s / %s / %s\n", "components for 70/90/99/99.9%",
                count_or_more(s.components_for_70, s.topk).c_str(), count_or_more(s.components_for_90, s.topk).c_str(),
                count_or_more(s.components_for_99, s.topk).c_str(), count_or_more(s.components_for_999, s.topk).c_str());
    if (std::isnan(s.eym_bound_2d))
      std::printf("    %-32s n/a (needs --topk >= 2D = %ld)\n", "Eckart-Young bound, rank 2D",
                  static_cast<long>(m.update.rank_bound));
    else
      std::printf("    %-32s %.6f\n", "Eckart-Young bound, rank 2D", s.eym_bound_2d);
  }
  std::printf("  time: basis %.3f s, pass %.3f s, spectrum %.3f s\n", m.run.basis_s, m.run.pass_s, m.run.spectrum_s);
}

void print_trace(const analysis::NodeTrace& t) {
  std::printf("\nbackward trace (||G||_F = %.6g at the logits; * = below the head)\n", t.logit_grad_norm);
  // nodes by their unique id (name#k where several share a name)
  size_t w = 4;
  for (const auto& r : t.rows) w = std::max(w, r.id.size());
  w = std::min<size_t>(w, 48);
  std::printf("  %-*s  %-16s %-16s %12s %12s\n", static_cast<int>(w + 2), "node", "op", "shape", "grad norm", "relative");
  for (const auto& r : t.rows)
    std::printf("  %s %-*s  %-16s %-16s %12.4e %12.4e\n", r.below_head ? "*" : " ", static_cast<int>(w), r.id.c_str(),
                r.op.c_str(), shape_str(r.shape).c_str(), r.grad_norm, r.relative);
}

void print_leak(const analysis::LeakReport& r) {
  std::printf("\nleak test (%ld nodes and leaves below the head compared with the full backward)\n",
              static_cast<long>(r.nodes_checked));
  std::printf("  %-46s %.3e  (at %s)\n", "destroyed part G - G Q Q^T: largest relative norm", r.destroyed_max,
              r.destroyed_node.c_str());
  std::printf("  %-46s %.3e  (at %s)\n", "visible part G Q Q^T: largest relative diff", r.visible_max_diff,
              r.visible_node.c_str());
}

nlohmann::json num(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

// ---- the two modes ------------------------------------------------------------------------------

// D: the head's width; N, V: G's shape (G has min(N, V) singular values: a larger --topk is
// refused rather than quietly capped).
analysis::HeadMetricsOptions metrics_options(const Options& o, int64_t D, int64_t N, int64_t V) {
  analysis::HeadMetricsOptions opts;
  opts.ignore_index = kIgnoreIndex;
  opts.chunk = o.integer("chunk");
  if (opts.chunk < 0) fail("--chunk", "must be >= 0 (0: from the 256 MiB memory budget), got ", opts.chunk);
  const std::string k = o.str("topk");
  opts.topk = k == "auto" ? 2 * D : o.integer("topk");
  if (opts.topk < 0) fail("--topk", "must be >= 0 (0: no spectrum), got ", opts.topk);
  if (k == "auto") opts.topk = std::min(opts.topk, std::min(N, V));
  else if (opts.topk > std::min(N, V))
    fail("--topk", opts.topk, " exceeds min(N, V) = ", std::min(N, V), ", the number of singular values G [", N, ", ", V,
         "] has");
  opts.seed = static_cast<uint64_t>(o.integer("seed"));
  return opts;
}

nlohmann::json run_files(const Options& o, Device device) {
  const FileInputs in = load_file_inputs(o.str("hidden"), o.str("head"), o.str("targets"));
  const auto opts = metrics_options(o, in.W.size(1), in.H.size(0), in.W.size(0));
  // Checked on the host as read; then the same metrics on --device's copies. What the analysis
  // itself refuses (values too large to square, logits that overflow) is about these files.
  analysis::HeadMetrics m;
  try {
    m = analysis::head_metrics(op::to(in.H, device), op::to(in.W, device), op::to(in.y, device), opts);
  } catch (const Error& e) {
    // the analysis's own refusals are about these two inputs; anything else (a device) is not
    if (std::string(e.what()).rfind("head_metrics:", 0) != 0) throw;
    fail("--hidden " + o.str("hidden") + ", --head " + o.str("head"), e.what());
  }
  print_metrics(m, in.H.dtype());
  return analysis::to_json_value(m);
}

nlohmann::json run_checkpoint(const Options& o, Device device) {
  const std::string ck_path = o.str("checkpoint");
  const nn::Checkpoint ck = nn::load_checkpoint(ck_path);
  nn::LMConfig cfg;
  try {
    cfg = nn::LMConfig::from_map(ck.config, /*strict=*/false);
    cfg.validate();
  } catch (const std::exception& e) {
    fail(ck_path, "model configuration in the checkpoint: ", e.what());
  }
  nn::check_config_fits_tensors(cfg, ck.model, ck_path);  // before the model is built
  auto model = nn::make_language_model(cfg);
  nn::load_model_state(ck, *model);
  model->eval();
  if (device != Device::CPU) nn::to_device(*model, device);

  const std::string text_path = o.str("text");
  const nn::TokenStream data = load_text_stream(text_path, checkpoint_tokenizer(o, cfg, ck_path));
  const std::string text_name = text_path.empty() ? "the fortunes corpus" : text_path;
  const int64_t B = o.integer("batch");
  int64_t T = o.integer("seq-len");
  if (B < 1) fail("--batch", "must be >= 1, got ", B);
  if (T == 0) T = std::min<int64_t>(64, cfg.context);
  if (T < 1) fail("--seq-len", "must be >= 1 (0: min(64, context)), got ", T);
  if (T > cfg.max_seq_len())
    fail("--seq-len", T, " exceeds the model's context ", cfg.max_seq_len(), " (", ck_path, ")");
  if (data.size() < T + 1)
    fail(text_name, "has ", data.size(), " tokens; --seq-len ", T, " needs at least ", T + 1);
  for (int64_t tok : data.tokens())
    if (tok >= cfg.vocab)
      fail(text_name, "token ", tok, " is outside the model's vocabulary V = ", cfg.vocab, " (", ck_path, ")");

  Generator gen(static_cast<uint64_t>(o.integer("seed")));
  const nn::Batch batch = data.sample(B, T, gen);
  const Tensor hidden = model->hidden(batch.inputs);
  const Tensor logits = model->head()->forward(hidden);
  const Tensor targets = op::to(op::reshape(batch.targets, {B * T}), logits.device());  // batch made on the CPU
  const Tensor loss = set_name(cross_entropy(logits, targets, kIgnoreIndex), "loss");
  const double loss_value = loss.item<double>();
  if (!std::isfinite(loss_value))
    fail(ck_path, "the model's loss on this batch is ", loss_value, " (are the weights finite?)");
  const Tensor G = grad({loss}, {logits}, {}, /*retain_graph=*/true)[0];
  Tensor H, W;
  {
    NoGradGuard ng;
    H = op::alias(model->head()->head_input(hidden));
    W = op::alias(model->head()->head_matrix());
  }
  check_finite(ck_path, "head matrix W", op::to(W, Device::CPU));  // reads host memory

  std::printf("model: %s backbone, %s head (rank %ld), step %ld of %s; batch %ld x %ld of %s\n",
              nn::backbone_name(cfg.backbone), cfg.head_label().c_str(), static_cast<long>(model->head()->rank()),
              static_cast<long>(ck.step), ck_path.c_str(), static_cast<long>(B), static_cast<long>(T), text_name.c_str());
  const auto opts = metrics_options(o, W.size(1), G.size(0), G.size(1));
  const analysis::HeadBasis basis = analysis::head_basis(W);
  // G from the model's own backward pass (includes a head bias, if any); loss from the same pass
  analysis::HeadMetrics m = analysis::grad_metrics(G, H, basis, opts);
  analysis::apply_exact_metric(m, *model->head(), hidden, G);  // the Jacobian figures for a non-linear head
  m.loss = loss_value;
  print_metrics(m, W.dtype());

  const analysis::NodeTrace trace = analysis::trace_backward(loss, logits, hidden);
  print_trace(trace);
  const analysis::LeakReport leak = analysis::leak_test(logits, hidden, G, basis);
  print_leak(leak);

  nlohmann::json j = analysis::to_json_value(m);
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : trace.rows)
    rows.push_back({{"id", r.id},
                    {"name", r.name},
                    {"op", r.op},
                    {"shape", r.shape},
                    {"grad_norm", num(r.grad_norm)},
                    {"relative", num(r.relative)}});
  j["trace"] = std::move(rows);
  j["leak"] = {{"destroyed_max", num(leak.destroyed_max)}, {"visible_max_diff", num(leak.visible_max_diff)}};
  return j;
}

}  // namespace

int run_analyze(const Args& args) {
  Options o("analyze",
            "Head bottleneck metrics: how much of the exact logit gradient G the LM head lets through.\n"
            "  gradscope analyze --head W.npy --hidden H.npy --targets y.npy [--json out.json]\n"
            "  gradscope analyze --checkpoint model.safetensors --text FILE [--json out.json]\n"
            "W [V, D] and H [N, D] are float32/float64 C-order .npy files, y [N] int32/int64 (-100 = ignored).\n"
            "With a checkpoint (from `gradscope train`) the model runs on one batch of the text and the\n"
            "node trace and leak test are added.");
  o.add("head", "", "head matrix W [V, D] (.npy)")
      .add("hidden", "", "hidden states H [N, D] entering the head (.npy)")
      .add("targets", "", "targets y [N] (.npy, int32/int64; -100 = ignored)")
      .add("checkpoint", "", "model checkpoint (.safetensors from `gradscope train`) instead of the .npy files")
      .add("text", "", "text to draw the batch from, with --checkpoint (default: Debian's fortunes corpus)")
      .add("batch", "8", "sequences in the batch, with --checkpoint")
      .add("seq-len", "0", "tokens per sequence, with --checkpoint (0: min(64, the model's context))")
      .add("chunk", "0", "rows of G per chunk (0: from a 256 MiB budget)")
      .add("topk", "auto", "singular values of G to compute (auto: 2D, what the Eckart-Young bound needs; 0: none)")
      .add("seed", "0", "seed of the randomized SVD and of the batch")
      .add("json", "", "write the metrics as JSON to this file (only when everything succeeded)");
  add_tokenizer_option(o, /*for_checkpoint=*/true);
  add_device_option(o);
  if (!o.parse(args)) return 0;
  const Device device = device_from(o);

  const bool files = !o.str("head").empty() || !o.str("hidden").empty() || !o.str("targets").empty();
  const bool model = !o.str("checkpoint").empty();
  if (files && model) throw Error("give either --head/--hidden/--targets or --checkpoint, not both");
  if (!files && !model) throw Error("nothing to analyze: give --head, --hidden and --targets, or --checkpoint\n" + o.help());
  if (files)
    for (const char* k : {"head", "hidden", "targets"})
      if (o.str(k).empty()) throw Error(std::string("--") + k + " is missing (the .npy mode needs --head, --hidden and --targets)");
  if (files && !o.str("text").empty()) throw Error("--text goes with --checkpoint, not with the .npy files");
  const std::string json_path = o.str("json");
  check_output_file("json", json_path);  // before any work

  const nlohmann::json j = files ? run_files(o, device) : run_checkpoint(o, device);
  if (!json_path.empty()) {
    write_file_atomic(json_path, j.dump(2) + "\n");
    std::printf("\njson: %s\n", json_path.c_str());
  }
  return 0;
}

}  // namespace gs::cli
