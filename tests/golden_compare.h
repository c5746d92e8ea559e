#pragma once
// Shared by the golden language-model tests (test_golden_gpt.cpp, test_golden_backbones.cpp):
// where the golden files live, the per-tensor comparison at the scale of the tensor's largest
// entry, and loading a model whose weights a torch script wrote as safetensors. Header-only like
// golden_loader.h (tests/CMakeLists.txt globs test_*.cpp only). Tests only, not the library.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "golden_loader.h"
#include "nn/lm.h"
#include "nn/safetensors.h"
#include "tensor/ops.h"

namespace gs::testing {

inline std::string golden_path(const std::string& file) {
  return std::string(GS_TEST_DATA_DIR) + "/golden/" + file;
}

inline double max_abs_value(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

// max_i |ours_i - torch_i| <= tol * scale for the golden tensor `name` (torch); the message names
// the file, the tensor and the worst element. GS_GOLDEN_VERBOSE=1 prints the worst error.
inline void require_close_at_scale(const Tensor& ours, const GoldenFile& gf, const std::string& name, double tol,
                                   double scale) {
  const Tensor want = gf.get(name);
  INFO("golden file " << gf.path() << ", tensor '" << name << "'");
  REQUIRE(ours.defined());
  REQUIRE(shape_str(ours.shape()) == shape_str(want.shape()));
  REQUIRE(dtype_name(ours.dtype()) == dtype_name(want.dtype()));
  REQUIRE(scale > 0);
  const std::vector<double> a = ours.to_vector<double>(), b = want.to_vector<double>();
  double worst = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double err = std::abs(a[i] - b[i]) / scale;
    if (!(err <= worst)) {  // NaN counts as worst
      worst = err;
      worst_i = i;
      if (std::isnan(err)) break;
    }
  }
  INFO("worst error " << worst << " of the scale " << scale << " at flat index " << worst_i << ": ours "
                      << a[worst_i] << ", torch " << b[worst_i] << " (tol " << tol << ")");
  if (std::getenv("GS_GOLDEN_VERBOSE")) WARN(gf.path() << " " << name << " worst " << worst);
  REQUIRE(worst <= tol);
}

// The same with the scale max_i |torch_i| (for a scalar: plain relative error).
inline void require_close_at_scale(const Tensor& ours, const GoldenFile& gf, const std::string& name, double tol) {
  require_close_at_scale(ours, gf, name, tol, max_abs_value(gf.get(name).to_vector<double>()));
}

// The language model described by the golden weights file `weights_file` (under tests/golden/):
// the LMConfig in its metadata must equal `want`, every tensor must have want.dtype, and the
// weights enter through a strict load_state, so the names in the file are exactly gradscope's
// parameter names (the random init they overwrite is never seen).
inline std::shared_ptr<nn::LanguageModel> load_golden_lm(const std::string& weights_file, const nn::LMConfig& want) {
  const nn::SafetensorsContents st = nn::load_safetensors(golden_path(weights_file));
  const nn::LMConfig cfg = nn::LMConfig::from_map(st.metadata, /*strict=*/false);
  INFO("golden weights " << weights_file);
  REQUIRE(cfg == want);
  for (const auto& [name, t] : st.tensors) {
    INFO(name);
    REQUIRE(t.dtype() == want.dtype);
  }
  auto model = nn::make_language_model(cfg);
  model->load_state(st.tensors, /*strict=*/true);
  return model;
}

// The parameter names a golden file holds a gradient for ("grad.<name>").
inline std::set<std::string> golden_gradient_names(const GoldenFile& gf) {
  std::set<std::string> out;
  for (const auto& n : gf.names())
    if (n.rfind("grad.", 0) == 0) out.insert(n.substr(5));
  return out;
}

inline std::set<std::string> parameter_names(const nn::Module& m) {
  std::set<std::string> out;
  for (const auto& [n, p] : m.named_parameters()) out.insert(n);
  return out;
}

}  // namespace gs::testing
