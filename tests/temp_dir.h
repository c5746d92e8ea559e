#pragma once
// A fresh folder under the system temp directory, removed with everything in it at scope exit.
#include <filesystem>
#include <random>
#include <string>
#include <system_error>

namespace gs::test {

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
};

}  // namespace gs::test
