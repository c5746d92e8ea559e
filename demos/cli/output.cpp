#include "demos/cli/output.h"

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

void write_file_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail(path, "cannot write (", std::strerror(errno), ")");
    out << text;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      fail(path, "write failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail(path, "cannot rename into place: ", ec.message());
  }
}

}  // namespace gs::cli
