#pragma once
// The file plumbing of the safetensors and .npy formats (detail::, used by nn/) and the two
// rules every file the project reads or writes follows (also used by the CLI). Every error is a
// gs::Error starting with the path.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gs::nn {

// Throws unless path names an existing regular file ("is a folder", "not a regular file (a FIFO,
// device or socket is not read)", "cannot open: <errno>"). Uses stat() before any open(): a FIFO
// is refused instead of blocking the program.
void check_regular_file(const std::string& path);

// Writes bytes to path atomically: a temp file beside it, fsync, rename over it. Creates path or
// replaces a regular file; refuses anything else that exists there (a device such as /dev/null,
// a FIFO, a folder, a symbolic link), before writing and again just before the rename. A failure
// leaves the previous file untouched and no temp file behind.
void write_file_atomic(const std::string& path, std::string_view bytes);

// Throws unless write_file_atomic(path, ...) can succeed as far as can be known before writing:
// path is new or a regular file, and its folder exists, is a folder and is writable (access(),
// so a read-only filesystem counts). Commands call it for every destination before their work
// starts, so a run does not fail at its end (or at its first checkpoint) on a bad path.
void check_writable_target(const std::string& path);

}  // namespace gs::nn

namespace gs::nn::detail {

// Test-only fault injection: the next AtomicFile (so the next save_safetensors, save_npy or
// write_file_atomic) fails as if the disk filled up (ENOSPC) once `bytes` bytes of its temp file
// have been written; -1 disarms. One-shot, not thread-safe. It lives here, beside AtomicFile, as
// AtomicFile is where the write fails.
void inject_save_failure_after(int64_t bytes);

// Atomic write: a temp file beside the target, owned until commit() (fsync, close, rename over
// the target, fsync the folder); any exit before commit() removes it, so a failed save never
// damages the previous file. A target that exists and is not a regular file is refused (see
// write_file_atomic). Honours inject_save_failure_after (above).
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

// A regular file opened for positioned reads (check_regular_file first); read_at throws on short
// files.
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
