#pragma once
// A fresh folder under the system temp directory, removed with everything in it at scope exit.
// The file-writing tests (checkpoints, .npy, text data, CLI outputs, crash/resume, FIFOs) all need
// one; it lives here once so that they create and clean up their folders the same way. The prefix
// names the test that made the folder, which helps when one is left behind by a crash.
#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>
#include <system_error>

namespace gs::testing {

struct TempDir {
  std::filesystem::path dir;
  explicit TempDir(const std::string& prefix = "gs_test_") {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() / (prefix + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (dir / name).string(); }
  // The names directly in dir (not recursive), sorted: what an atomic write left next to its
  // target. listing() below is the recursive form.
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

// The paths under dir, relative and sorted (recursively): what a refused or failed run must not
// have added.
inline std::vector<std::string> listing(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    names.push_back(std::filesystem::relative(e.path(), dir).string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace gs::testing
