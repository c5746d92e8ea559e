// Keeps docs/ADDING_AN_OP.md true: the files it says a new unary op touches are at most 8, exist,
// and are where every op of the table lives; every op of the table is registered (and so needs a
// gradcheck case, tests/test_registry_coverage.cpp); and no other source file of the library
// layers has per-op code for a unary op, so the backends stay table-driven.
#include <catch2/catch.hpp>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/registry.h"
#include "ops_common/unary_ops.h"

namespace fs = std::filesystem;

namespace {

const fs::path kRoot = fs::path(GS_TEST_DATA_DIR).parent_path();  // tests/.. = the source root

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The text between "<!-- <name>: begin -->" and "<!-- <name>: end -->".
std::string section(const std::string& doc, const std::string& name) {
  const std::string begin = "<!-- " + name + ": begin -->", end = "<!-- " + name + ": end -->";
  const size_t b = doc.find(begin), e = doc.find(end);
  if (b == std::string::npos || e == std::string::npos || e < b) return "";
  return doc.substr(b + begin.size(), e - b - begin.size());
}

// The first `backticked` cell of every table row ("| ... `path` ... |") that names a file.
std::vector<std::string> listed_paths(const std::string& text) {
  std::vector<std::string> paths;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| ", 0) != 0) continue;
    const size_t a = line.find('`');
    const size_t b = a == std::string::npos ? a : line.find('`', a + 1);
    if (b == std::string::npos) continue;
    const std::string p = line.substr(a + 1, b - a - 1);
    if (p.find('/') != std::string::npos && p.find(' ') == std::string::npos) paths.push_back(p);
  }
  return paths;
}

bool is_ident(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// `word` occurs in text with no identifier character on either side.
bool has_word(const std::string& text, const std::string& word, bool need_left_boundary = true) {
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    const bool left = !need_left_boundary || at == 0 || !is_ident(text[at - 1]);
    const bool right = at + word.size() == text.size() || !is_ident(text[at + word.size()]);
    if (left && right) return true;
  }
  return false;
}

std::string doc() {
  const std::string d = read(kRoot / "docs" / "ADDING_AN_OP.md");
  REQUIRE_FALSE(d.empty());
  return d;
}

}  // namespace

TEST_CASE("ADDING_AN_OP.md: a new unary op touches at most 8 source files, each of them real",
          "[kernels][docs]") {
  const std::string files = section(doc(), "new-unary-op-files");
  const std::vector<std::string> paths = listed_paths(files);
  INFO(files);
  REQUIRE(!paths.empty());
  CHECK(paths.size() <= 8);
  // the sentence above the table states the count the table has
  CHECK(files.find("touches " + std::to_string(paths.size()) + " source files") != std::string::npos);
  for (const auto& p : listed_paths(section(doc(), "new-unary-op-optional"))) {
    INFO("optional file " << p);
    CHECK(fs::is_regular_file(kRoot / p));
  }
  // every listed file exists and holds a line for every op of the table: it is where an op goes
  for (const auto& p : paths) {
    INFO("listed file " << p);
    REQUIRE(fs::is_regular_file(kRoot / p));
    const std::string text = read(kRoot / p);
    for (gs::kernel::Unary op : gs::kernel::kUnaryOps) {
      INFO("op " << gs::kernel::op_name(op));
      CHECK(has_word(text, gs::kernel::op_name(op)));
    }
  }
}

TEST_CASE("every op of the unary table is a registered differentiable op", "[kernels][docs]") {
  // Registered means tests/test_registry_coverage.cpp requires a passing gradcheck case for it.
  REQUIRE(gs::kernel::kUnaryCount == static_cast<int>(std::size(gs::kernel::kUnaryOps)));
  std::set<std::string> names;
  for (gs::kernel::Unary op : gs::kernel::kUnaryOps) {
    const std::string name = gs::kernel::op_name(op);
    INFO("op " << name);
    CHECK(names.insert(name).second);  // one name per op
    CHECK(gs::is_registered_op(name));
  }
}

TEST_CASE("no library source outside ADDING_AN_OP.md's lists has per-op code for a unary op",
          "[kernels][docs]") {
  const std::string d = doc();
  std::set<std::string> allowed;
  for (const auto& p : listed_paths(section(d, "new-unary-op-files"))) allowed.insert(p);
  for (const auto& p : listed_paths(section(d, "new-unary-op-optional"))) allowed.insert(p);
  REQUIRE(!allowed.empty());
  int scanned = 0;
  for (const char* layer : {"ops_common", "ops_cpu", "ops_cuda", "tensor", "autograd"}) {
    for (const auto& entry : fs::recursive_directory_iterator(kRoot / layer)) {
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".h" && ext != ".cpp" && ext != ".cu" && ext != ".cuh")) continue;
      ++scanned;
      const std::string rel = fs::relative(entry.path(), kRoot).generic_string();
      if (allowed.count(rel)) continue;
      const std::string text = read(entry.path());
      for (gs::kernel::Unary op : gs::kernel::kUnaryOps) {
        const std::string use = std::string("Unary::") + gs::kernel::op_name(op);
        if (has_word(text, use, /*need_left_boundary=*/false))
          FAIL_CHECK(rel << " mentions " << use << ": make it table-driven, or list the file in "
                         << "docs/ADDING_AN_OP.md (and count it)");
      }
    }
  }
  CHECK(scanned > 50);  // the walk found the library's sources
}
