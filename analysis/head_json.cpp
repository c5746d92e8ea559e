#include "analysis/head_json.h"

#include <cmath>

namespace gs::analysis {
namespace {

// NaN and Inf have no JSON spelling: null.
nlohmann::json num(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

}  // namespace

nlohmann::json to_json_value(const HeadMetrics& m) {
  nlohmann::json sv = nlohmann::json::array();
  for (double s : m.spectrum.singular_values) sv.push_back(num(s));
  nlohmann::json j;
  j["tokens"] = m.tokens;
  j["vocab"] = m.vocab;
  j["dim"] = m.dim;
  j["loss"] = num(m.loss);
  j["logit_grad_norm"] = num(m.logit_grad_norm);
  j["visible_norm"] = num(m.visible_norm);
  j["destroyed_fraction"] = num(m.destroyed_fraction);
  j["visible_cosine"] = num(m.visible_cosine);
  j["metric"] = m.metric;
  j["column_space_destroyed_fraction"] = num(m.column_space_destroyed_fraction);
  j["per_token_destroyed"] = {{"mean", num(m.per_token.mean)},
                              {"p5", num(m.per_token.p5)},
                              {"p50", num(m.per_token.p50)},
                              {"p95", num(m.per_token.p95)}};
  j["update"] = {{"cosine", num(m.update.cosine)},
                 {"backbone_term_norm", num(m.update.backbone_term_norm)},
                 {"head_term_norm", num(m.update.head_term_norm)},
                 {"rank_bound", m.update.rank_bound}};
  j["spectrum"] = {{"topk", m.spectrum.topk},
                   {"singular_values", sv},
                   {"components_for_70", m.spectrum.components_for_70},
                   {"components_for_90", m.spectrum.components_for_90},
                   {"components_for_99", m.spectrum.components_for_99},
                   {"components_for_999", m.spectrum.components_for_999},
                   {"eym_bound_2d", num(m.spectrum.eym_bound_2d)},
                   // how the values were obtained, and the randomized path's a-posteriori error,
                   // so a reader can tell an exact count from an estimate (SpectrumMetrics)
                   {"exact", m.spectrum.exact},
                   {"residual", num(m.spectrum.residual)},
                   {"value_error", num(m.spectrum.value_error)}};
  return j;
}

std::string to_json(const HeadMetrics& m, int indent) { return to_json_value(m).dump(indent); }

}  // namespace gs::analysis
