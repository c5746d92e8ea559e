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

OutputFolder::OutputFolder(const std::string& dir) {
  std::error_code ec;
  // the topmost missing part of the path is what create_directories makes (and what to remove)
  for (fs::path p = fs::absolute(fs::path(dir)).lexically_normal(); !p.empty() && !fs::exists(p, ec);) {
    created_ = p.string();
    if (p.parent_path() == p) break;
    p = p.parent_path();
  }
  fs::create_directories(dir, ec);
  if (ec) fail(dir, "cannot create output folder: ", ec.message());
}

OutputFolder::~OutputFolder() {
  if (keep_ || created_.empty()) return;
  std::error_code ec;
  fs::remove_all(created_, ec);  // best effort: we are already failing
}

void check_output_file(const std::string& option, const std::string& path, const std::string& run_dir) {
  if (path.empty()) return;
  std::error_code ec;
  if (!run_dir.empty() && !fs::exists(run_dir, ec)) {
    // --json runs/x/r.json with --out runs/x: its folder appears with the run's results
    auto norm = [](const std::string& p) {
      fs::path n = fs::absolute(fs::path(p)).lexically_normal();
      return n.has_filename() ? n : n.parent_path();  // "runs/x/" and "runs/x" alike
    };
    if (norm(path).parent_path() == norm(run_dir)) return;
  }
  try {
    nn::check_writable_target(path);
  } catch (const Error& e) {
    fail("--" + option, e.what());
  }
}

void write_file_atomic(const std::string& path, const std::string& text) { nn::write_file_atomic(path, text); }

}  // namespace gs::cli
