// Every op in autograd/registry.cpp has a passing gradcheck case. Run by ctest after the
// gradcheck cases have written the ops they covered to GS_GRADCHECK_COVERAGE (see
// tests/CMakeLists.txt: fixture gradcheck_coverage). Hidden from the plain test list ([.]),
// because on its own it has no coverage file to read.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include "autograd/registry.h"

TEST_CASE("every registered differentiable op has a passing gradcheck case", "[.][registry]") {
  const char* path = std::getenv("GS_GRADCHECK_COVERAGE");
  INFO("GS_GRADCHECK_COVERAGE must name the file the [gradcheck] run wrote (run through ctest)");
  REQUIRE(path != nullptr);
  std::ifstream in(path);
  REQUIRE(in.good());
  std::set<std::string> covered;
  for (std::string line; std::getline(in, line);) covered.insert(line);
  std::string missing;
  for (const auto& op : gs::registered_ops())
    if (!covered.count(std::string(op.name))) missing += std::string(op.name) + " (" + std::string(op.family) + ") ";
  INFO("ops without a gradcheck case: " << missing);
  REQUIRE(missing.empty());
  // the registry has no duplicate names
  std::set<std::string> names;
  for (const auto& op : gs::registered_ops()) REQUIRE(names.insert(std::string(op.name)).second);
}
