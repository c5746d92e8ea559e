#pragma once
// The fuzz input as a file: gradscope's readers take paths (they stat() and open them), so each
// input is written to one anonymous in-memory file (memfd_create) and read back through
// /proc/self/fd/N. No disk traffic per execution, nothing left behind.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace gs::fuzz {

class InputFile {
 public:
  InputFile() : fd_(::memfd_create("gs_fuzz_input", 0)) {
    if (fd_ < 0) std::abort();  // no memfd: nothing to fuzz with
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  // Replaces the file's contents with data[0, size).
  const std::string& hold(const uint8_t* data, size_t size) {
    if (::ftruncate(fd_, 0) != 0) std::abort();
    size_t done = 0;
    while (done < size) {
      const ssize_t k = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (k <= 0) std::abort();
      done += static_cast<size_t>(k);
    }
    return path_;
  }

 private:
  int fd_;
  std::string path_;
};

}  // namespace gs::fuzz
