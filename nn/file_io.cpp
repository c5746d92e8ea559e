#include "nn/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "tensor/error.h"

namespace gs::nn {
namespace {
int64_t g_fail_after_bytes = -1;  // detail::inject_save_failure_after
std::string errno_str(int e) { return std::strerror(e); }
}  // namespace

namespace {

// A save may create `target` or replace a regular file there; anything else (a device such as
// /dev/null, a FIFO, a socket, a folder, a symbolic link) is refused: rename() would replace the
// node itself, e.g. turn /dev/null into a regular file.
void check_replaceable(const std::string& target) {
  struct stat st {};
  if (::lstat(target.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    if (errno == ENOTDIR) fail(target, "cannot be written: a part of its folder path is a file, not a folder");
    fail(target, "cannot stat: ", errno_str(errno));
  }
  if (S_ISREG(st.st_mode)) return;
  fail(target, "exists and is not a regular file (",
       S_ISDIR(st.st_mode) ? "a folder" : S_ISLNK(st.st_mode) ? "a symbolic link" : S_ISFIFO(st.st_mode) ? "a FIFO"
       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : "a special file",
       "): refusing to replace it; write to a new or regular file instead");
}

// Temp files of an earlier save of the same target that was killed before it could clean up
// (kill -9, power loss): "<target>.tmp.XXXXXX", mkstemp's six characters. Removed before the next
// save of that target, so they do not pile up. (Two processes saving one target at the same
// time would remove each other's: that is not supported anyway, the last rename would win.)
void remove_stale_temps(const std::string& target) {
  namespace fs = std::filesystem;
  const fs::path t(target);
  const std::string prefix = t.filename().string() + ".tmp.";
  const fs::path dir = t.parent_path().empty() ? fs::path(".") : t.parent_path();
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code e2;
    if (name.size() == prefix.size() + 6 && name.compare(0, prefix.size(), prefix) == 0 &&
        it->symlink_status(e2).type() == fs::file_type::regular)
      fs::remove(it->path(), e2);  // best effort: a file we cannot remove is only clutter
  }
}

}  // namespace

void check_regular_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(path, "cannot open: ", errno_str(errno));
  if (S_ISDIR(st.st_mode)) fail(path, "is a folder, not a file");
  if (!S_ISREG(st.st_mode)) fail(path, "not a regular file (a FIFO, device or socket is not read)");
}

void check_writable_target(const std::string& path) {
  if (path.empty()) fail("(empty path)", "no file name given");
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    const int e = errno;
    fail(path, "cannot be written: its folder ", dir, e == ENOENT ? " does not exist" : ": " + errno_str(e));
  }
  if (!S_ISDIR(st.st_mode)) fail(path, "cannot be written: ", dir, " is not a folder");
  // W_OK for the new entry, X_OK to reach it; EROFS covers a read-only filesystem even for root
  if (::access(dir.c_str(), W_OK | X_OK) != 0) fail(path, "cannot be written: folder ", dir, ": ", errno_str(errno));
  check_replaceable(path);  // after the folder: its messages are the clearer ones
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  detail::AtomicFile f(path);
  f.write(bytes.data(), bytes.size());
  f.commit();
}

namespace detail {

void inject_save_failure_after(int64_t bytes) { g_fail_after_bytes = bytes; }

AtomicFile::AtomicFile(const std::string& target) : target_(target), tmp_(target + ".tmp.XXXXXX") {
  check_replaceable(target_);
  remove_stale_temps(target_);
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
  check_replaceable(target_);  // again: the target may have changed while we wrote
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
  check_regular_file(path);  // before open(): opening a FIFO for reading blocks until a writer comes
  // O_NONBLOCK: should the path have become a FIFO since the check, open() still returns at once
  // (and the fstat below refuses it); for a regular file the flag changes nothing
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
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
