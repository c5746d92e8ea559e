#include "demos/cli/output.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "nn/file_io.h"
#include "tensor/error.h"

namespace gs::cli {
namespace fs = std::filesystem;

std::string plan_run_dir(const std::string& command, const std::string& explicit_dir, const std::string& base) {
  fs::path dir = explicit_dir;
  if (dir.empty()) {
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
    dir = fs::path(base) / (command + "-" + stamp);
  }
  // the nearest part of the path that exists must be a folder we may write into
  fs::path probe = dir;
  std::error_code ec;
  while (!probe.empty() && !fs::exists(fs::symlink_status(probe, ec)) && probe.parent_path() != probe)
    probe = probe.parent_path();
  if (probe.empty()) probe = ".";
  const std::string what = "--out " + dir.string();
  if (!fs::is_directory(probe, ec))
    fail(what, "cannot create the output folder: ", probe.string(), " is not a folder");
  // W_OK | X_OK: we will create entries in it; EROFS covers a read-only filesystem even for root
  if (::access(probe.c_str(), W_OK | X_OK) != 0)
    fail(what, "cannot create the output folder: ", probe.string(), ": ", std::strerror(errno));
  return dir.string();
}

void create_run_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail(dir, "cannot create output folder: ", ec.message());
}

void check_output_file(const std::string& option, const std::string& path) {
  if (path.empty()) return;
  try {
    nn::check_writable_target(path);
  } catch (const Error& e) {
    fail("--" + option, e.what());
  }
}

void write_file_atomic(const std::string& path, const std::string& text) { nn::write_file_atomic(path, text); }

}  // namespace gs::cli
