#include "nn/data.h"

#include "comm/communicator.h"
#include "tensor/convert.h"
#include "tensor/views.h"
#include "nn/file_io.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "tensor/convert.h"
#include "tensor/creation.h"

namespace gs::nn {

namespace fs = std::filesystem;

// ---- ByteTokenizer ------------------------------------------------------------------------

std::string ByteTokenizer::decode(const Tensor& tokens) const {
  if (tokens.dtype() != kInt64) fail("ByteTokenizer", "decode needs int64 tokens, got ", dtype_name(tokens.dtype()));
  return decode(tokens.to_vector<int64_t>());
}

// ---- TokenStream --------------------------------------------------------------------------

TokenStream::TokenStream(std::vector<int64_t> tokens, int64_t vocab_size) : vocab_(vocab_size) {
  if (vocab_size <= 0) fail("TokenStream", "vocab_size must be positive, got ", vocab_size);
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab_size)
      fail("TokenStream", "token ", tokens[i], " at position ", i, " is outside [0, ", vocab_size, ")");
  tokens_ = std::make_shared<const std::vector<int64_t>>(std::move(tokens));
}

void TokenStream::check_bt(const char* op, int64_t B, int64_t T) const {
  if (B <= 0 || T <= 0) fail(op, "B and T must be positive, got B = ", B, ", T = ", T);
  // the batch's ids (inputs and targets, int64) must fit this machine before they are allocated:
  // a huge B otherwise surfaces as a bare std::bad_alloc (or, with overcommit, a killed process)
  const double bytes = 16.0 * double(B) * double(T);
  const double machine = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGESIZE));
  if (machine > 0 && bytes > machine) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%.3g GiB, more than this machine's %.1f GiB", bytes / double(1ull << 30),
                  machine / double(1ull << 30));
    fail(op, "B = ", B, " sequences of T = ", T, " tokens: their ids alone need ", buf);
  }
  if (size() < T + 1)
    fail(op, "T = ", T, " needs at least ", T + 1, " tokens (inputs plus the next token), the stream has ", size());
}

Batch TokenStream::gather(const std::vector<int64_t>& starts, int64_t T) const {
  const auto B = static_cast<int64_t>(starts.size());
  std::vector<int64_t> x(static_cast<size_t>(B * T)), y(static_cast<size_t>(B * T));
  const int64_t* src = tokens_->data();
  for (int64_t b = 0; b < B; ++b) {
    std::copy_n(src + starts[b], T, x.begin() + b * T);
    std::copy_n(src + starts[b] + 1, T, y.begin() + b * T);
  }
  return {from_vector(x, Shape{B, T}), from_vector(y, Shape{B, T})};
}

Batch TokenStream::sample(int64_t B, int64_t T, Generator& gen) const {
  check_bt("TokenStream::sample", B, T);
  std::vector<int64_t> starts(static_cast<size_t>(B));
  for (auto& s : starts) s = gen.randint(size() - T);  // s + T <= size - 1
  return gather(starts, T);
}

Batch TokenStream::window(int64_t start, int64_t T) const {
  check_bt("TokenStream::window", 1, T);
  if (start < 0 || start + T + 1 > size())
    fail("TokenStream::window", "start ", start, " with T = ", T, " runs past the stream of ", size(), " tokens");
  return gather({start}, T);
}

int64_t TokenStream::window_count(int64_t T) const {
  if (T <= 0) fail("TokenStream::window_count", "T must be positive, got ", T);
  return size() > 0 ? (size() - 1) / T : 0;
}

TokenStream::Epoch TokenStream::epoch(int64_t B, int64_t T, Generator& gen, bool drop_last) const {
  check_bt("TokenStream::epoch", B, T);
  const int64_t n = window_count(T);
  std::vector<int64_t> starts(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) starts[k] = k * T;
  for (int64_t i = n - 1; i > 0; --i) std::swap(starts[i], starts[gen.randint(i + 1)]);  // Fisher-Yates
  if (drop_last && n < B)
    fail("TokenStream::epoch", "the stream holds ", n, " windows of T = ", T, ", fewer than one batch of B = ", B);
  return Epoch(*this, std::move(starts), B, T, drop_last);
}

int64_t TokenStream::Epoch::batch_count() const {
  const auto n = static_cast<int64_t>(starts_.size());
  return drop_last_ ? n / B_ : (n + B_ - 1) / B_;
}

std::optional<Batch> TokenStream::Epoch::next() {
  const size_t left = starts_.size() - pos_;
  if (left == 0 || (drop_last_ && left < static_cast<size_t>(B_))) return std::nullopt;
  const size_t take = std::min(left, static_cast<size_t>(B_));
  std::vector<int64_t> s(starts_.begin() + static_cast<std::ptrdiff_t>(pos_),
                         starts_.begin() + static_cast<std::ptrdiff_t>(pos_ + take));
  pos_ += take;
  return stream_.gather(s, T_);
}

// ---- text sources -------------------------------------------------------------------------

std::string load_text_file(const std::string& path) {
  check_regular_file(path);  // a folder, FIFO or device is refused before any open
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open the text file: ", std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(path, "reading the text file failed");
  if (text.empty()) fail(path, "the text file is empty");
  return text;
}

std::vector<std::string> default_corpus_files(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    const auto ext = p.extension().string();
    if (ext == ".dat" || ext == ".u8" || !it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    files.push_back(p.string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string default_corpus(const std::string& dir) {
  const auto files = default_corpus_files(dir);
  if (files.empty())
    fail("default_corpus", "no fortune files in ", dir,
         ": the default corpus is Debian's fortunes package; run scripts/setup to install it (or pass --text FILE)");
  std::string text;
  for (const auto& f : files) {
    text += load_text_file(f);
    if (text.back() != '\n') text += '\n';
  }
  return text;
}

Batch rank_share(const Batch& global, const comm::Communicator* c, const char* op) {
  if (c == nullptr || c->size() <= 1) return global;
  const int64_t B = global.inputs.size(0), R = c->size();
  if (B % R != 0)
    fail(op, "batch ", B, " is not a multiple of the ", R, " processes: each takes batch / ", R, " sequences");
  const int64_t per = B / R, first = c->rank() * per;
  return {op::contiguous(op::narrow(global.inputs, 0, first, per)),
          op::contiguous(op::narrow(global.targets, 0, first, per))};
}

}  // namespace gs::nn
