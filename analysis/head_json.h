#pragma once
// The head metrics as a nlohmann::json value (keys as in to_json, analysis/head_bottleneck.h), for
// callers that add their own keys (the model trace and leak test) before writing.
#include <nlohmann/json.hpp>

#include "analysis/head_bottleneck.h"

namespace gs::analysis {

nlohmann::json to_json_value(const HeadMetrics& m);

}  // namespace gs::analysis
