#include "nn/checkpoint.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <charconv>
#include <cstdio>
#include <sstream>
#include <vector>

#include "nn/safetensors.h"

namespace gs::nn {
namespace {

constexpr const char* kFormat = "gradscope-checkpoint";
constexpr const char* kConfigPrefix = "config.";

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

// Whole-string unsigned parse in base 10 or 16; false on any junk.
bool parse_u64(const std::string& s, uint64_t& out, int base = 10) {
  if (s.empty()) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::string rng_state_to_string(const Generator::State& st) {
  char bits[17];
  std::snprintf(bits, sizeof bits, "%016llx", static_cast<unsigned long long>(std::bit_cast<uint64_t>(st.cached_normal)));
  std::ostringstream os;
  os << "xoshiro256**";
  for (uint64_t w : st.s) os << ' ' << w;
  os << ' ' << (st.has_cached ? 1 : 0) << ' ' << bits;
  return os.str();
}

Generator::State rng_state_from_string(const std::string& text) {
  std::istringstream is(text);
  std::vector<std::string> tok;
  for (std::string t; is >> t;) tok.push_back(t);
  if (tok.size() != 7 || tok[0] != "xoshiro256**")
    fail("rng_state", "expected 'xoshiro256** s0 s1 s2 s3 has_cached bits', got '", text, "'");
  Generator::State st{};
  for (int i = 0; i < 4; ++i)
    if (!parse_u64(tok[1 + i], st.s[i])) fail("rng_state", "word ", i, " '", tok[1 + i], "' is not a u64");
  if (tok[5] != "0" && tok[5] != "1") fail("rng_state", "has_cached must be 0 or 1, got '", tok[5], "'");
  st.has_cached = tok[5] == "1";
  uint64_t bits = 0;
  if (tok[6].size() != 16 || !parse_u64(tok[6], bits, 16))
    fail("rng_state", "cached normal must be 16 hex digits, got '", tok[6], "'");
  st.cached_normal = std::bit_cast<double>(bits);
  if (st.s[0] == 0 && st.s[1] == 0 && st.s[2] == 0 && st.s[3] == 0)
    fail("rng_state", "an all-zero xoshiro state is invalid");
  return st;
}

void save_checkpoint(const std::string& path, const Module& model, const NamedTensors& optim_state, int64_t step,
                     const Generator& rng, const std::map<std::string, std::string>& config) {
  if (step < 0) fail(path, "step must be >= 0, got ", step);
  NamedTensors all;
  for (auto& [n, t] : model.named_parameters()) all.emplace_back("model." + n, t);
  for (auto& [n, t] : model.named_buffers()) all.emplace_back("model." + n, t);
  for (auto& [n, t] : optim_state) all.emplace_back("optim." + n, t);
  std::map<std::string, std::string> meta = {{"format", kFormat},
                                             {"format_version", std::to_string(kCheckpointFormatVersion)},
                                             {"step", std::to_string(step)},
                                             {"rng", rng_state_to_string(rng.state())}};
  for (const auto& [k, v] : config) {
    if (k.empty()) fail(path, "config keys must be non-empty");
    meta.emplace(kConfigPrefix + k, v);
  }
  save_safetensors(path, all, meta);
}

void save_checkpoint(const std::string& path, const Module& model, const std::map<std::string, Tensor>& optim_state,
                     int64_t step, const Generator& rng, const std::map<std::string, std::string>& config) {
  save_checkpoint(path, model, NamedTensors(optim_state.begin(), optim_state.end()), step, rng, config);
}

Checkpoint load_checkpoint(const std::string& path) {
  SafetensorsContents f = load_safetensors(path);
  Checkpoint ck;
  ck.path = path;
  auto& m = f.metadata;
  auto it = m.find("format");
  if (it == m.end() || it->second != kFormat)
    fail(path, "not a gradscope checkpoint (its metadata lacks format = ", kFormat, ")");
  uint64_t u = 0;
  it = m.find("format_version");
  if (it == m.end() || !parse_u64(it->second, u))
    fail(path, "metadata format_version is missing or not a number");
  if (u != static_cast<uint64_t>(kCheckpointFormatVersion))
    fail(path, "checkpoint format version ", it->second, " is not supported (this build reads ",
         kCheckpointFormatVersion, ")");
  ck.format_version = static_cast<int>(u);
  it = m.find("step");
  if (it == m.end() || !parse_u64(it->second, u) || u > static_cast<uint64_t>(INT64_MAX))
    fail(path, "metadata step is missing or not a non-negative integer");
  ck.step = static_cast<int64_t>(u);
  it = m.find("rng");
  if (it == m.end()) fail(path, "metadata rng (the generator state) is missing");
  try {
    ck.rng = rng_state_from_string(it->second);
  } catch (const Error& e) {
    fail(path, "metadata rng is invalid: ", e.what());
  }
  for (const auto& [k, v] : m) {
    if (starts_with(k, kConfigPrefix)) ck.config.emplace(k.substr(std::string(kConfigPrefix).size()), v);
    else if (k != "format" && k != "format_version" && k != "step" && k != "rng")
      fail(path, "unexpected metadata key '", k, "'");
  }
  for (auto& [n, t] : f.tensors) {
    if (starts_with(n, "model.") && n.size() > 6) ck.model.emplace(n.substr(6), t);
    else if (starts_with(n, "optim.") && n.size() > 6) ck.optim.emplace(n.substr(6), t);
    else fail(path, "unexpected tensor '", n, "' (checkpoint tensors are named model.<name> or optim.<name>)");
  }
  return ck;
}

void load_model_state(const Checkpoint& ck, Module& model) {
  const auto mine = model.state();
  std::vector<std::string> missing, extra;
  for (const auto& [n, _] : mine)
    if (!ck.model.count(n)) missing.push_back("model." + n);
  for (const auto& [n, _] : ck.model)
    if (!mine.count(n)) extra.push_back("model." + n);
  if (!missing.empty() || !extra.empty())
    fail(ck.path, missing.empty() ? "" : "missing tensors the model needs: " + join(missing),
         !missing.empty() && !extra.empty() ? "; " : "",
         extra.empty() ? "" : "extra tensors the model does not have: " + join(extra));
  for (const auto& [n, t] : ck.model) {
    const Tensor& dst = mine.at(n);
    if (t.shape() != dst.shape())
      fail(ck.path, "model.", n, " has shape ", shape_str(t.shape()), ", the model expects ", shape_str(dst.shape()));
    if (t.dtype() != dst.dtype())
      fail(ck.path, "model.", n, " is ", dtype_name(t.dtype()), ", the model expects ", dtype_name(dst.dtype()));
    // training refuses a non-finite loss, so a NaN or Inf weight means a damaged file: say so
    // here, not later as a NaN loss
    if (is_floating(t.dtype()) && t.numel() > 0) {
      const std::vector<double> v = t.to_vector<double>();
      for (size_t i = 0; i < v.size(); ++i)
        if (!std::isfinite(v[i]))
          fail(ck.path, "model.", n, " has a non-finite value (", v[i], " at flat index ", i, "): corrupt checkpoint?");
    }
  }
  model.load_state(ck.model, /*strict=*/true);
}

}  // namespace gs::nn
