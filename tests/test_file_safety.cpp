// Files that are not regular files: reading one is refused without blocking (a FIFO opened for
// reading waits for a writer forever), and an atomic save never replaces one (rename() would turn
// a FIFO, a device such as /dev/null, or a symbolic link into a regular file). The targets here
// are FIFOs and links in a temp folder: a failure of the rule changes only them.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "demos/cli/commands.h"
#include "nn/checkpoint.h"
#include "nn/data.h"
#include "nn/file_io.h"
#include "nn/npy.h"
#include "tensor/ops.h"
#include "tests/temp_dir.h"

using namespace gs;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

std::string make_fifo(const testing::TempDir& tmp, const std::string& name) {
  const std::string p = tmp / name;
  REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
  return p;
}

bool is_fifo(const std::string& p) { return fs::is_fifo(fs::symlink_status(p)); }

}  // namespace

TEST_CASE("reading a FIFO is refused at once, naming the file", "[nn][files]") {
  testing::TempDir tmp("gs_fifo_read_");
  const std::string f = make_fifo(tmp, "f");
  // each of these blocked forever before the regular-file check came first
  CHECK_THROWS_WITH(nn::load_text_file(f), Contains(f) && Contains("not a regular file"));
  CHECK_THROWS_WITH(nn::load_npy(f), Contains(f) && Contains("not a regular file"));
  CHECK_THROWS_WITH(nn::load_checkpoint(f), Contains(f) && Contains("not a regular file"));
  CHECK_THROWS_WITH(nn::check_regular_file(tmp / "missing"), Contains("cannot open"));
  CHECK_THROWS_WITH(nn::check_regular_file(tmp.dir.string()), Contains("is a folder"));
  CHECK_THROWS_WITH(cli::run_analyze({"--checkpoint", f, "--text", f}), Contains("not a regular file"));
}

TEST_CASE("an atomic save replaces a regular file but never a FIFO, link or folder", "[nn][files]") {
  testing::TempDir tmp("gs_fifo_write_");
  const Tensor t = from_vector(std::vector<double>{1, 2, 3});

  const std::string fifo = make_fifo(tmp, "out.npy");
  CHECK_THROWS_WITH(nn::save_npy(fifo, t), Contains(fifo) && Contains("a FIFO") && Contains("refusing to replace"));
  CHECK(is_fifo(fifo));
  CHECK_THROWS_WITH(nn::write_file_atomic(fifo, "x"), Contains("a FIFO"));
  CHECK(is_fifo(fifo));

  const std::string target = tmp / "real.txt", link = tmp / "link.txt";
  std::ofstream(target) << "kept";
  fs::create_symlink(target, link);
  CHECK_THROWS_WITH(nn::write_file_atomic(link, "new"), Contains("a symbolic link"));
  CHECK(fs::is_symlink(fs::symlink_status(link)));
  fs::create_directory(tmp / "folder");
  CHECK_THROWS_WITH(nn::write_file_atomic(tmp / "folder", "new"), Contains("a folder"));

  // a regular file is replaced, a missing one created; no temp file is left beside either
  nn::write_file_atomic(target, "replaced");
  nn::write_file_atomic(tmp / "new.txt", "created");
  std::string a, b;
  std::getline(std::ifstream(target), a);
  std::getline(std::ifstream(tmp / "new.txt"), b);
  CHECK(a == "replaced");
  CHECK(b == "created");
  for (const auto& e : fs::directory_iterator(tmp.dir)) CHECK(e.path().string().find(".tmp.") == std::string::npos);
}

TEST_CASE("the CLI's --json refuses a FIFO and leaves it in place", "[nn][files][cli]") {
  testing::TempDir tmp("gs_fifo_cli_");
  const Tensor W = from_vector(std::vector<double>{1, 0, 0, 1, 1, 1}, {3, 2});
  const Tensor H = from_vector(std::vector<double>{0.5, -1, 2, 0.25}, {2, 2});
  const Tensor y = from_vector(std::vector<int64_t>{0, 2});
  nn::save_npy(tmp / "W.npy", W);
  nn::save_npy(tmp / "H.npy", H);
  nn::save_npy(tmp / "y.npy", y);
  const std::string fifo = make_fifo(tmp, "out.json");
  CHECK_THROWS_WITH(cli::run_analyze({"--head", tmp / "W.npy", "--hidden", tmp / "H.npy", "--targets", tmp / "y.npy",
                                      "--json", fifo}),
                    Contains("a FIFO"));
  CHECK(is_fifo(fifo));
}

TEST_CASE("a save removes the temp files a killed save of the same target left", "[nn][files]") {
  testing::TempDir tmp("gs_stale_tmp_");
  const std::string target = tmp / "ck.npy";
  // what a save killed before its rename leaves; other names are not touched
  for (const char* n : {"ck.npy.tmp.a1B2c3", "ck.npy.tmp.zzzzzz", "ck.npy.tmp.toolong7", "other.npy.tmp.a1B2c3"})
    std::ofstream(tmp / n) << "partial";
  nn::save_npy(target, from_vector(std::vector<double>{1, 2}));
  CHECK_FALSE(fs::exists(tmp / "ck.npy.tmp.a1B2c3"));
  CHECK_FALSE(fs::exists(tmp / "ck.npy.tmp.zzzzzz"));
  CHECK(fs::exists(tmp / "ck.npy.tmp.toolong7"));
  CHECK(fs::exists(tmp / "other.npy.tmp.a1B2c3"));
  CHECK(nn::load_npy(target).to_vector<double>() == std::vector<double>{1, 2});
}
