#include "demos/cli/output.h"

#include "nn/file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "tensor/error.h"

namespace gs::cli {

std::string make_run_dir(const std::string& command, const std::string& explicit_dir, const std::string& base) {
  std::filesystem::path dir = explicit_dir;
  if (dir.empty()) {
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
    dir = std::filesystem::path(base) / (command + "-" + stamp);
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail(dir.string(), "cannot create output folder: ", ec.message());
  return dir.string();
}

void write_file_atomic(const std::string& path, const std::string& text) { nn::write_file_atomic(path, text); }

}  // namespace gs::cli
