#include "nn/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "nn/safetensors.h"
#include "tensor/error.h"

namespace gs::nn {
namespace {
int64_t g_fail_after_bytes = -1;  // detail::inject_save_failure_after
std::string errno_str(int e) { return std::strerror(e); }
}  // namespace

namespace detail {

void inject_save_failure_after(int64_t bytes) { g_fail_after_bytes = bytes; }

AtomicFile::AtomicFile(const std::string& target) : target_(target), tmp_(target + ".tmp.XXXXXX") {
  fd_ = ::mkstemp(tmp_.data());
  if (fd_ < 0) fail(target_, "cannot create a temp file beside it: ", errno_str(errno));
  ::fchmod(fd_, 0644);  // mkstemp makes 0600; a saved file is an ordinary file
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    size_t chunk = std::min<size_t>(n, size_t{1} << 30);
    bool inject = false;
    if (g_fail_after_bytes >= 0) {
      const auto room = static_cast<size_t>(std::max<int64_t>(0, g_fail_after_bytes - written_));
      if (chunk >= room) chunk = room, inject = true;
    }
    if (chunk > 0) {
      const ssize_t k = ::write(fd_, p, chunk);
      if (k < 0) {
        if (errno == EINTR) continue;
        fail(target_, "writing ", tmp_, " failed: ", errno_str(errno));
      }
      p += k, n -= static_cast<size_t>(k), written_ += k;
    }
    if (inject) {
      g_fail_after_bytes = -1;
      fail(target_, "writing ", tmp_, " failed: ", errno_str(ENOSPC), " (injected by a test)");
    }
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) fail(target_, "fsync of ", tmp_, " failed: ", errno_str(errno));
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail(target_, "closing ", tmp_, " failed: ", errno_str(errno));
  if (::rename(tmp_.c_str(), target_.c_str()) != 0) fail(target_, "renaming ", tmp_, " over it failed: ", errno_str(errno));
  committed_ = true;
  const std::filesystem::path parent = std::filesystem::path(target_).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    const int rc = ::fsync(dfd), e = errno;
    ::close(dfd);
    // Some filesystems cannot fsync a folder (EINVAL); the rename itself has happened.
    if (rc != 0 && e != EINVAL) fail(target_, "saved, but fsync of the folder ", dir, " failed: ", errno_str(e));
  }
}

ReadFile::ReadFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY);
  if (fd_ < 0) fail(path_, "cannot open: ", errno_str(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int e = errno;
    ::close(fd_);
    fail(path_, "cannot stat: ", errno_str(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    fail(path_, S_ISDIR(st.st_mode) ? "is a folder, not a file" : "not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
}

ReadFile::~ReadFile() { ::close(fd_); }

void ReadFile::read_at(uint64_t pos, void* out, size_t n) const {
  char* p = static_cast<char*>(out);
  while (n > 0) {
    const ssize_t k = ::pread(fd_, p, std::min<size_t>(n, size_t{1} << 30), static_cast<off_t>(pos));
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) fail(path_, "read failed: ", errno_str(errno));
    if (k == 0) fail(path_, "file ended early at byte ", pos, " (was it changed while loading?)");
    p += k, pos += static_cast<uint64_t>(k), n -= static_cast<size_t>(k);
  }
}

}  // namespace detail
}  // namespace gs::nn
