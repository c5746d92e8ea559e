#pragma once
// Reads the golden files that scripts/golden/make_golden.py writes (format in tests/golden/README.md):
//   "GSGOLD1\0", uint32 count, then per tensor: uint32 name_len, name, uint32 dtype (0 f32, 1 f64,
//   2 i64 = gs::DType order), uint32 ndim, int64 dims[ndim], row-major little-endian data.
// Header-only on purpose: tests/CMakeLists.txt globs test_*.cpp only. Tests only, not the library.
#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "tensor/creation.h"
#include "tensor/tensor.h"

namespace gs::testing {

static_assert(std::endian::native == std::endian::little, "golden files are little-endian");

class GoldenFile {
 public:
  explicit GoldenFile(std::string path) : path_(std::move(path)) {
    std::ifstream in(path_, std::ios::binary);
    if (!in) fail_("cannot open the file (run scripts/golden/make_golden.py?)");
    buf_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    parse_();
  }

  const std::string& path() const { return path_; }
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : tensors_) out.push_back(k);
    return out;
  }
  // A fresh tensor each call (callers may mark it requires_grad without touching the others).
  Tensor get(const std::string& name) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) fail_("no tensor named '" + name + "'");
    const Entry& e = it->second;
    switch (e.dtype) {
      case DType::Float32: return make_<float>(e);
      case DType::Float64: return make_<double>(e);
      default: return make_<int64_t>(e);
    }
  }

 private:
  struct Entry {
    DType dtype;
    Shape shape;
    size_t offset;  // into buf_
    int64_t numel;
  };

  [[noreturn]] void fail_(const std::string& what) const {
    throw std::runtime_error("golden file " + path_ + ": " + what);
  }
  template <class T>
  T read_(size_t& pos) const {
    if (pos + sizeof(T) > buf_.size()) fail_("truncated at byte " + std::to_string(pos));
    T v;
    std::memcpy(&v, buf_.data() + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  void parse_() {
    size_t pos = 0;
    if (buf_.size() < 8 || std::memcmp(buf_.data(), "GSGOLD1\0", 8) != 0) fail_("bad magic (not a GSGOLD1 file)");
    pos = 8;
    const uint32_t count = read_<uint32_t>(pos);
    for (uint32_t i = 0; i < count; ++i) {
      const uint32_t len = read_<uint32_t>(pos);
      if (len == 0 || len > 256 || pos + len > buf_.size()) fail_("bad name length in tensor #" + std::to_string(i));
      std::string name(buf_.data() + pos, len);
      pos += len;
      const uint32_t code = read_<uint32_t>(pos);
      if (code > 2) fail_("tensor '" + name + "' has unknown dtype code " + std::to_string(code));
      const uint32_t ndim = read_<uint32_t>(pos);
      if (ndim > 8) fail_("tensor '" + name + "' has ndim " + std::to_string(ndim));
      Entry e{static_cast<DType>(code), {}, 0, 1};
      for (uint32_t d = 0; d < ndim; ++d) {
        const int64_t n = read_<int64_t>(pos);
        if (n < 0) fail_("tensor '" + name + "' has a negative dim");
        e.shape.push_back(n);
        e.numel *= n;
      }
      const size_t bytes = static_cast<size_t>(e.numel) * dtype_size(e.dtype);
      if (pos + bytes > buf_.size()) fail_("tensor '" + name + "' data runs past the end of the file");
      e.offset = pos;
      pos += bytes;
      if (!tensors_.emplace(name, e).second) fail_("duplicate tensor '" + name + "'");
    }
    if (pos != buf_.size()) fail_(std::to_string(buf_.size() - pos) + " trailing bytes");
  }
  template <class T>
  Tensor make_(const Entry& e) const {
    std::vector<T> v(static_cast<size_t>(e.numel));
    if (e.numel > 0) std::memcpy(v.data(), buf_.data() + e.offset, v.size() * sizeof(T));
    return from_vector<T>(v, e.shape);
  }

  std::string path_;
  std::vector<char> buf_;
  std::map<std::string, Entry> tensors_;
};

}  // namespace gs::testing
