#include "nn/lm.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>

#include "autograd/ops.h"
#include "nn/head_registry.h"
#include "tensor/ops.h"
#include "tokenizer/tokenizer.h"

namespace gs::nn {
namespace {

int64_t parse_int(const std::string& key, const std::string& v) {
  size_t used = 0;
  int64_t out = 0;
  try {
    out = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v.size()) fail("LMConfig", "'", key, "' = '", v, "' is not an integer");
  return out;
}

bool parse_bool(const std::string& key, const std::string& v) {
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  fail("LMConfig", "'", key, "' = '", v, "' is not a boolean (true or false)");
}

DType parse_dtype(const std::string& key, const std::string& v) {
  if (v == "float32") return kFloat32;
  if (v == "float64") return kFloat64;
  fail("LMConfig", "'", key, "' = '", v, "' is not a model dtype (float32 or float64)");
}

}  // namespace

int64_t LMConfig::max_seq_len() const {
  return backbone == BackboneKind::transformer ? context : kUnlimitedSeqLen;
}

int64_t LMConfig::width_multiple() const {
  return backbone == BackboneKind::transformer ? std::max<int64_t>(1, n_head) : 1;
}

int64_t LMConfig::head_rank() const {
  return head == HeadKind::factorized || (head == HeadKind::registered && rank > 0) ? rank : d_model;
}

void LMConfig::set_head(const std::string& name, std::string_view where) {
  head = parse_head(name, where);
  registered_head = head == HeadKind::registered ? name : std::string();
}

std::string LMConfig::head_label() const { return head == HeadKind::registered ? registered_head : head_name(head); }

BackboneConfig LMConfig::backbone_config() const {
  BackboneConfig b;
  b.vocab = vocab;
  b.d_model = d_model;
  b.n_layer = n_layer;
  b.n_head = n_head;
  b.context = context;
  b.mlp_ratio = mlp_ratio;
  b.final_norm = final_norm;
  b.dtype = dtype;
  b.seed = seed;
  return b;
}

namespace {
std::string fmt_gib(double bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g GiB", bytes / double(int64_t{1} << 30));
  return b;
}
}  // namespace

void LMConfig::validate() const {
  // the kinds themselves need no check: a name is refused where it is parsed (from_map, the CLI)
  if (head == HeadKind::factorized && rank < 1) fail("LMConfig", "a factorized head needs rank >= 1, got ", rank);
  if (tied && head != HeadKind::full)
    fail("LMConfig", "tied embeddings need the full head, got head '", head_label(), "'");
  if (head == HeadKind::registered) parse_head(registered_head, "LMConfig");  // still registered?
  if (head == HeadKind::mos && (mixtures < 1 || mixtures > 64))
    fail("LMConfig", "a mos head needs 1 <= mixtures <= 64, got ", mixtures);
  if (vocab <= 0 || d_model <= 0 || n_layer < 0 || n_head <= 0 || context <= 0 || mlp_ratio <= 0)
    fail("LMConfig", "sizes must be positive (n_layer >= 0), got vocab = ", vocab, ", d_model = ", d_model,
         ", n_layer = ", n_layer, ", n_head = ", n_head, ", context = ", context, ", mlp_ratio = ", mlp_ratio);
  if (dtype == kInt64) fail("LMConfig", "dtype must be float32 or float64");
  if (!tok::is_tokenizer_name(tokenizer))
    fail("LMConfig", "unknown tokenizer '", tokenizer, "' (valid: ", tok::tokenizer_names(), ")");
  // A configuration read from a file is checked before anything is allocated: a few bytes of
  // config (n_layer = 1e9, d_model = 30000) must not make the program build for minutes and then
  // run out of memory. First explicit limits, far above any model this engine trains on a CPU
  // (and each small enough that no count below overflows), then the memory estimate.
  auto limit = [](const char* field, int64_t v, int64_t max) {
    if (v > max) fail("LMConfig", field, " = ", v, " exceeds the limit ", max);
  };
  limit("vocab", vocab, int64_t{1} << 24);
  limit("d_model", d_model, 65536);
  limit("n_layer", n_layer, 1024);
  if (backbone == BackboneKind::transformer) limit("n_head", n_head, d_model);
  limit("context", context, int64_t{1} << 20);
  limit("mlp_ratio", mlp_ratio, 64);
  if (head == HeadKind::factorized) limit("rank", rank, 65536);
  // An upper estimate of the parameters (per layer 4 D^2 attention plus 2 mlp_ratio D^2 MLP,
  // which also bounds the GRU's 6 D^2 and the SSM's 4 D^2; embeddings and an untied head V D
  // each, a factorized head rank (V + D); positions context D), in double.
  const double D = double(d_model),
               params = 2.0 * double(vocab) * D + double(context) * D +
                        double(n_layer) * (4.0 + 2.0 * double(mlp_ratio)) * D * D +
                        (head == HeadKind::factorized ? double(rank) * (double(vocab) + D) : 0.0);
  const double bytes = params * double(dtype_size(dtype));
  const double machine = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGESIZE));
  if (machine > 0 && bytes > machine)
    fail("LMConfig", "the parameters alone would take about ", fmt_gib(bytes), " (vocab = ", vocab, ", d_model = ",
         d_model, ", n_layer = ", n_layer, ", mlp_ratio = ", mlp_ratio, ", context = ", context,
         "), more than this machine's ", fmt_gib(machine), " of memory");
}

double LMConfig::parameter_lower_bound() const {
  const double D = double(d_model), V = double(vocab);
  const double per_layer = backbone == BackboneKind::transformer ? (4.0 + 2.0 * double(mlp_ratio)) * D * D
                           : backbone == BackboneKind::gru        ? 6.0 * D * D
                                                                  : 4.0 * D * D;
  double n = V * D + double(n_layer) * per_layer;
  if (head == HeadKind::factorized) n += double(rank) * (V + D);
  else if (!tied) n += V * D;
  if (backbone == BackboneKind::transformer) n += double(context) * D;
  return n;
}

void check_config_fits_tensors(const LMConfig& cfg, const std::map<std::string, Tensor>& model_tensors,
                               const std::string& path) {
  double stored = 0;
  for (const auto& [name, t] : model_tensors) stored += double(t.numel());
  const double need = cfg.parameter_lower_bound();
  if (need > stored)
    fail(path, "its configuration (", cfg.backbone, ", vocab = ", cfg.vocab, ", d_model = ", cfg.d_model, ", n_layer = ",
         cfg.n_layer, ") describes at least ", need, " parameters, but the file holds ", stored,
         " model values: the configuration does not belong to these tensors (corrupt file?)");
}

std::map<std::string, std::string> LMConfig::to_map() const {
  auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  return {{"backbone", backbone_name(backbone)},
          {"head", head_label()},
          {"rank", std::to_string(rank)},
          {"mixtures", std::to_string(mixtures)},
          {"vocab", std::to_string(vocab)},
          {"d_model", std::to_string(d_model)},
          {"n_layer", std::to_string(n_layer)},
          {"n_head", std::to_string(n_head)},
          {"context", std::to_string(context)},
          {"mlp_ratio", std::to_string(mlp_ratio)},
          {"tied", b(tied)},
          {"final_norm", b(final_norm)},
          {"dtype", std::string(dtype_name(dtype))},
          {"seed", std::to_string(seed)},
          {"tokenizer", tokenizer}};
}

LMConfig LMConfig::from_map(const std::map<std::string, std::string>& m, bool strict) {
  LMConfig c;
  using Setter = std::function<void(const std::string&, const std::string&)>;
  const std::map<std::string, Setter> fields{
      {"backbone", [&](auto&, auto& v) { c.backbone = parse_backbone(v, "LMConfig"); }},
      {"head", [&](auto&, auto& v) { c.set_head(v, "LMConfig"); }},
      {"rank", [&](auto& k, auto& v) { c.rank = parse_int(k, v); }},
      {"mixtures", [&](auto& k, auto& v) { c.mixtures = parse_int(k, v); }},  // absent before the mos head: 2
      {"vocab", [&](auto& k, auto& v) { c.vocab = parse_int(k, v); }},
      {"d_model", [&](auto& k, auto& v) { c.d_model = parse_int(k, v); }},
      {"n_layer", [&](auto& k, auto& v) { c.n_layer = parse_int(k, v); }},
      {"n_head", [&](auto& k, auto& v) { c.n_head = parse_int(k, v); }},
      {"context", [&](auto& k, auto& v) { c.context = parse_int(k, v); }},
      {"mlp_ratio", [&](auto& k, auto& v) { c.mlp_ratio = parse_int(k, v); }},
      {"tied", [&](auto& k, auto& v) { c.tied = parse_bool(k, v); }},
      {"final_norm", [&](auto& k, auto& v) { c.final_norm = parse_bool(k, v); }},
      {"dtype", [&](auto& k, auto& v) { c.dtype = parse_dtype(k, v); }},
      {"tokenizer", [&](auto&, auto& v) { c.tokenizer = v; }},  // absent in older checkpoints: "byte"
      {"seed", [&](auto& k, auto& v) {
         if (v.empty() || v[0] == '-') fail("LMConfig", "'", k, "' = '", v, "' is not an unsigned integer");
         size_t used = 0;
         try {
           c.seed = std::stoull(v, &used);
         } catch (const std::exception&) {
           used = 0;
         }
         if (used == 0 || used != v.size()) fail("LMConfig", "'", k, "' = '", v, "' is not an unsigned integer");
       }},
  };
  for (const auto& [k, v] : m) {
    auto it = fields.find(k);
    if (it != fields.end()) it->second(k, v);
    else if (strict) fail("LMConfig", "unknown key '", k, "'");
  }
  return c;
}

LanguageModel::LanguageModel(std::shared_ptr<Backbone> backbone, std::shared_ptr<LMHead> head, LMConfig config)
    : config_(std::move(config)) {
  if (!backbone || !head) fail("LanguageModel", "backbone and head must be non-null");
  if (backbone->d_model() != head->d_model())
    fail("LanguageModel", "backbone d_model = ", backbone->d_model(), " but the head expects ", head->d_model());
  if (backbone->vocab() != head->vocab())
    fail("LanguageModel", "backbone vocab = ", backbone->vocab(), " but the head has vocab ", head->vocab());
  backbone_ = register_module("backbone", std::move(backbone));
  head_ = register_module("head", std::move(head));
}

Tensor LanguageModel::hidden(const Tensor& tokens) const {
  const Tensor h = backbone_->forward(tokens);  // [B, T, D]
  NameScope scope(path());
  return set_name(reshape(h, {h.size(0) * h.size(1), h.size(2)}), node_name("hidden"));
}

Tensor LanguageModel::forward(const Tensor& tokens) const { return head_->forward(hidden(tokens)); }

Tensor LanguageModel::loss(const Tensor& tokens, const Tensor& targets, int64_t ignore_index) const {
  LossOptions opt;
  opt.ignore_index = ignore_index;
  return loss(tokens, targets, opt);
}

Tensor LanguageModel::loss(const Tensor& tokens, const Tensor& targets, const LossOptions& opt) const {
  const std::string where = node_name("LanguageModel.loss");
  if (targets.dtype() != kInt64 || targets.shape() != tokens.shape())
    fail(where, "targets ", shape_str(targets.shape()), " ", dtype_name(targets.dtype()),
         " must be int64 of the tokens' shape ", shape_str(tokens.shape()));
  if (!opt.fused) {
    if (opt.on_chunk) fail(where, "on_chunk needs the fused loss (fused = true)");
    const Tensor logits = forward(tokens);
    NameScope scope(path());
    // Targets follow the logits' device (batches are made on the CPU).
    const Tensor y = op::to(reshape(targets, {targets.numel()}), logits.device());
    return set_name(cross_entropy(logits, y, opt.ignore_index), node_name("loss"));
  }
  const Tensor h = hidden(tokens);  // [N, D]
  LinearCrossEntropyOptions ce;
  ce.ignore_index = opt.ignore_index;
  ce.chunk = opt.chunk;
  ce.memory_budget_bytes = opt.memory_budget_bytes;
  ce.on_chunk = opt.on_chunk;
  const Tensor y = op::to(reshape(targets, {targets.numel()}), h.device());
  return set_name(head_->loss(h, y, ce), node_name("loss"));
}

std::shared_ptr<LanguageModel> make_language_model(const LMConfig& cfg, Generator& gen) {
  cfg.validate();
  auto backbone = make_backbone(cfg.backbone, cfg.backbone_config(), gen);
  std::shared_ptr<LMHead> head;
  if (cfg.tied) head = std::make_shared<FullHead>(backbone->token_embedding());
  else if (cfg.head == HeadKind::registered)
    head = make_registered_head(cfg.registered_head, {cfg.d_model, cfg.vocab, cfg.rank, cfg.dtype}, gen);
  else head = make_head(cfg.head, cfg.d_model, cfg.vocab, cfg.rank, gen, cfg.dtype, cfg.mixtures);
  return std::make_shared<LanguageModel>(std::move(backbone), std::move(head), cfg);
}

std::shared_ptr<LanguageModel> make_language_model(const LMConfig& cfg) {
  Generator gen(cfg.seed);
  return make_language_model(cfg, gen);
}

LMConfig checkpoint_model_config(const Checkpoint& ck) {
  const LMConfig cfg = LMConfig::from_map(ck.config, /*strict=*/false);
  cfg.validate();
  check_config_fits_tensors(cfg, ck.model, ck.path);
  return cfg;
}

std::shared_ptr<LanguageModel> load_language_model(const Checkpoint& ck, const LMConfig& cfg) {
  auto model = make_language_model(cfg);
  load_model_state(ck, *model);
  return model;
}

std::shared_ptr<LanguageModel> copy_language_model(const LanguageModel& model, DType dtype) {
  LMConfig cfg = model.config();
  cfg.dtype = dtype;
  auto copy = make_language_model(cfg);
  std::map<std::string, Tensor> converted;
  for (const auto& [k, t] : model.state()) converted[k] = is_floating(t.dtype()) ? op::to(t, dtype) : t;
  copy->load_state(converted);
  return copy;
}

}  // namespace gs::nn
