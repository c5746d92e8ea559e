#include "nn/safetensors.h"
#include "nn/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <string_view>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "tensor/convert.h"
#include "tensor/creation.h"

namespace gs::nn {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swapping");

namespace {

using json = nlohmann::json;

const char* st_dtype(DType t) { return t == kFloat32 ? "F32" : t == kFloat64 ? "F64" : "I64"; }


// ---- writing --------------------------------------------------------------------------------

// ---- reading --------------------------------------------------------------------------------

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

std::string offsets_str(uint64_t b, uint64_t e) {
  char buf[48];  // snprintf, not string concatenation: GCC 12 raises a false -Wrestrict on the latter
  std::snprintf(buf, sizeof buf, "[%llu, %llu]", static_cast<unsigned long long>(b), static_cast<unsigned long long>(e));
  return buf;
}

// Parses the header, rejecting duplicate keys in any object (nlohmann keeps the last silently).
json parse_header(const std::string& path, const std::string& text) {
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  auto cb = [&](int, json::parse_event_t ev, json& parsed) {
    if (ev == json::parse_event_t::object_start) keys.emplace_back();
    else if (ev == json::parse_event_t::object_end) keys.pop_back();
    else if (ev == json::parse_event_t::key && !keys.back().insert(parsed.get<std::string>()).second &&
             duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  json h;
  try {
    h = json::parse(text, cb);
  } catch (const json::exception& e) {
    std::string what = e.what();
    if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    fail(path, "header is not valid JSON (", what, ")");
  }
  if (!duplicate.empty()) fail(path, "header has the key '", duplicate, "' twice");
  if (!h.is_object()) fail(path, "header is not a JSON object but ", h.type_name());
  return h;
}

uint64_t get_offset(const std::string& path, const std::string& name, const json& v) {
  if (!v.is_number_unsigned()) fail(path, "tensor '", name, "': data_offsets must hold non-negative integers");
  return v.get<uint64_t>();
}

Entry parse_entry(const std::string& path, const std::string& name, const json& v) {
  if (!v.is_object()) fail(path, "tensor '", name, "': entry is not a JSON object");
  for (const auto& [k, _] : v.items())
    if (k != "dtype" && k != "shape" && k != "data_offsets") fail(path, "tensor '", name, "': unexpected key '", k, "'");
  for (const char* k : {"dtype", "shape", "data_offsets"})
    if (!v.contains(k)) fail(path, "tensor '", name, "': missing '", k, "'");
  Entry e{name, kFloat32, {}, 0, 0};

  if (!v["dtype"].is_string()) fail(path, "tensor '", name, "': dtype is not a string");
  const auto dt = v["dtype"].get<std::string>();
  if (dt == "F32") e.dtype = kFloat32;
  else if (dt == "F64") e.dtype = kFloat64;
  else if (dt == "I64") e.dtype = kInt64;
  else {
    static const std::set<std::string> spec = {"BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16",
                                               "F16", "BF16", "I32", "U32", "U64"};
    fail(path, "tensor '", name, "': ", spec.count(dt) ? "unsupported" : "unknown", " dtype '", dt,
         "' (gradscope reads F32, F64 and I64)");
  }

  const json& sh = v["shape"];
  if (!sh.is_array()) fail(path, "tensor '", name, "': shape is not an array");
  uint64_t numel = 1;
  bool overflow = false;
  for (const auto& d : sh) {
    if (!d.is_number_unsigned()) fail(path, "tensor '", name, "': shape must hold non-negative integers");
    const uint64_t n = d.get<uint64_t>();
    if (n > (uint64_t{1} << 62)) overflow = true;
    else if (n != 0 && numel > (uint64_t{1} << 62) / n) overflow = true;
    else numel *= n;
    e.shape.push_back(static_cast<int64_t>(std::min<uint64_t>(n, uint64_t{1} << 62)));
  }
  // bytes, not only elements, stay below 2^62: numel * 8 would wrap around 2^64 (a shape of 2^62
  // float64 elements "needed 0 bytes")
  if (overflow)
    fail(path, "tensor '", name, "': shape ", sh.dump(), " has a dimension or element count beyond 2^62 (corrupt header?)");
  if (numel > (uint64_t{1} << 62) / dtype_size(e.dtype))
    fail(path, "tensor '", name, "': shape ", sh.dump(), " of ", dt, " needs more than 2^62 bytes (corrupt header?)");

  const json& off = v["data_offsets"];
  if (!off.is_array() || off.size() != 2) fail(path, "tensor '", name, "': data_offsets must be [begin, end]");
  e.begin = get_offset(path, name, off[0]);
  e.end = get_offset(path, name, off[1]);
  if (e.end < e.begin) fail(path, "tensor '", name, "': data_offsets ", offsets_str(e.begin, e.end), " end before they begin");
  const uint64_t need = numel * dtype_size(e.dtype);
  if (e.end - e.begin != need)
    fail(path, "tensor '", name, "': shape ", shape_str(e.shape), " of ", dt, " needs ", need,
         " bytes but data_offsets ", offsets_str(e.begin, e.end), " span ", e.end - e.begin);
  return e;
}

}  // namespace

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  // Check everything and build the header before touching the disk.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    auto& m = header["__metadata__"] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
  }
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name.empty() || name == "__metadata__") fail(path, "cannot save a tensor named '", name, "'");
    if (!seen.insert(name).second) fail(path, "tensor name '", name, "' appears twice");
    if (!t.defined()) fail(path, "tensor '", name, "' is undefined");
    const uint64_t nbytes = static_cast<uint64_t>(t.numel()) * dtype_size(t.dtype());
    header[name] = {{"dtype", st_dtype(t.dtype())}, {"shape", t.shape()}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    fail(path, "a tensor name or metadata string is not valid UTF-8 (", e.what(), ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // the data section starts 8-byte aligned
  const uint64_t n = text.size();

  detail::AtomicFile f(path);
  f.write(&n, 8);
  f.write(text.data(), text.size());
  for (const auto& [name, t] : tensors) {
    const Tensor c = op::contiguous(op::to(t, Device::CPU));
    if (c.numel() > 0) f.write(c.raw_data(), static_cast<size_t>(c.numel()) * dtype_size(c.dtype()));
  }
  f.commit();
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  save_safetensors(path, NamedTensors(tensors.begin(), tensors.end()), metadata);
}

SafetensorsContents load_safetensors(const std::string& path) {
  detail::ReadFile f(path);
  if (f.size() < 8)
    fail(path, "file is ", f.size(), " bytes, shorter than the 8-byte header length (truncated?)");
  uint64_t n = 0;
  f.read_at(0, &n, 8);
  if (n > kMaxSafetensorsHeader)
    fail(path, "header length ", n, " bytes is over the ", kMaxSafetensorsHeader >> 20, " MB limit (corrupt file?)");
  if (n > f.size() - 8)
    fail(path, "header length ", n, " bytes is larger than the rest of the file (", f.size() - 8, " bytes; truncated?)");
  std::string text(n, '\0');
  f.read_at(8, text.data(), n);
  const json h = parse_header(path, text);

  SafetensorsContents out;
  std::vector<Entry> entries;
  for (const auto& [k, v] : h.items()) {
    if (k == "__metadata__") {
      if (!v.is_object()) fail(path, "__metadata__ is not a JSON object");
      for (const auto& [mk, mv] : v.items()) {
        if (!mv.is_string()) fail(path, "metadata value for '", mk, "' is not a string but ", mv.type_name());
        out.metadata.emplace(mk, mv.get<std::string>());
      }
      continue;
    }
    entries.push_back(parse_entry(path, k, v));
  }

  // The tensors must tile the data section exactly: in range, no overlaps, no holes.
  const uint64_t data_start = 8 + n, data_size = f.size() - data_start;
  for (const auto& e : entries)
    if (e.end > data_size)
      fail(path, "tensor '", e.name, "': data_offsets ", offsets_str(e.begin, e.end),
           " run past the end of the data section (", data_size, " bytes; truncated?)");
  std::vector<const Entry*> order;
  for (const auto& e : entries) order.push_back(&e);
  std::sort(order.begin(), order.end(),
            [](const Entry* a, const Entry* b) { return std::tie(a->begin, a->end) < std::tie(b->begin, b->end); });
  uint64_t covered = 0;
  const Entry* prev = nullptr;
  for (const Entry* e : order) {
    if (e->begin < covered)
      fail(path, "tensors '", prev->name, "' ", offsets_str(prev->begin, prev->end), " and '", e->name, "' ",
           offsets_str(e->begin, e->end), " overlap");
    if (e->begin > covered)
      fail(path, "data bytes [", covered, ", ", e->begin, ") belong to no tensor (the format forbids holes)");
    covered = e->end;
    prev = e;
  }
  if (covered != data_size)
    fail(path, "the data section has ", data_size, " bytes but the tensors cover only ", covered,
         " (the format forbids trailing bytes)");

  for (const auto& e : entries) {
    Tensor t = empty(e.shape, e.dtype);
    if (e.end > e.begin) f.read_at(data_start + e.begin, t.raw_data(), e.end - e.begin);
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

}  // namespace gs::nn
