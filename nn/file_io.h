#pragma once
// Internal to nn/: the file plumbing shared by the safetensors and .npy formats. Every error is a
// gs::Error starting with the target path.
#include <cstddef>
#include <cstdint>
#include <string>

namespace gs::nn::detail {

// Atomic write: a temp file beside the target, owned until commit() (fsync, close, rename over
// the target, fsync the folder); any exit before commit() removes it, so a failed save never
// damages the previous file. Honours inject_save_failure_after (nn/safetensors.h).
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& target);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(const void* data, size_t n);
  void commit();

 private:
  std::string target_, tmp_;
  int fd_ = -1;
  int64_t written_ = 0;
  bool committed_ = false;
};

// A regular file opened for positioned reads; read_at throws on short files.
class ReadFile {
 public:
  explicit ReadFile(const std::string& path);
  ~ReadFile();
  ReadFile(const ReadFile&) = delete;
  ReadFile& operator=(const ReadFile&) = delete;
  uint64_t size() const { return size_; }
  void read_at(uint64_t pos, void* out, size_t n) const;

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

}  // namespace gs::nn::detail
