// Every command checks its output destinations before the work starts, and a run that fails
// leaves nothing behind: no output folder, no run.json, no checkpoint, no temp file.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "demos/cli/commands.h"
#include "demos/cli/output.h"
#include "tests/temp_dir.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// The small model every command below trains, so a run that is not refused takes seconds.
std::vector<std::string> small(std::vector<std::string> extra) {
  std::vector<std::string> a = {"--d-model", "8", "--layers", "1", "--seq-len", "8", "--batch", "2"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

}  // namespace

TEST_CASE("outputs: a --json in a place that cannot be written fails before the experiment runs",
          "[cli][outputs]") {
  gs::testing::TempDir tmp("gs_outputs_");
  const std::string plain = tmp / "plain.txt";
  std::ofstream(plain) << "a regular file, used as a folder below\n";
  const std::string bad_json = plain + "/x.json", out = tmp / "out";
  struct Case {
    const char* name;
    std::function<int(const gs::cli::Args&)> run;
    std::vector<std::string> args;
  };
  // 10^8 steps each: a check made after the training (where it was) would never be reached in
  // the life of the suite, so only a check before the work lets these cases finish
  const std::vector<Case> cases = {
      {"spamlang", gs::cli::run_spamlang, {"--vocab", "64", "--dim", "4", "--steps", "100000000", "--seeds", "1"}},
      {"head-rank", gs::cli::run_head_rank, small({"--ranks", "2,4", "--steps", "100000000"})},
      {"equal-norm", gs::cli::run_equal_norm, small({"--train-steps", "100000000"})},
      {"backbones", gs::cli::run_backbones, small({"--steps", "100000000", "--seeds", "1"})},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--json", bad_json, "--out", out});
    REQUIRE_THROWS_WITH(c.run(args), StartsWith("--json: " + bad_json + ": cannot be written: " + plain + " is not a folder"));
    CHECK(!fs::exists(out));
  }
  CHECK(gs::testing::listing(tmp.dir) == std::vector<std::string>{"plain.txt"});
}

TEST_CASE("outputs: an --out that cannot be made is refused at once, a failed run leaves no folder",
          "[cli][outputs]") {
  gs::testing::TempDir tmp("gs_outputs_");
  const std::string plain = tmp / "plain.txt";
  std::ofstream(plain) << "x\n";
  // --out under a regular file, or naming one
  REQUIRE_THROWS_WITH(gs::cli::run_bottleneck(small({"--steps", "4", "--out", plain + "/sub/dir"})),
                      StartsWith("--out " + plain + "/sub/dir: cannot create the output folder: " + plain +
                                 " is not a folder"));
  REQUIRE_THROWS_WITH(gs::cli::run_bottleneck(small({"--steps", "4", "--out", plain})),
                      Contains("is not a folder"));
  // a run that fails in the middle (the loss overflows at this learning rate) used to leave an
  // empty output folder behind
  const std::string out = tmp / "run";
  REQUIRE_THROWS_WITH(gs::cli::run_bottleneck(small({"--steps", "6", "--every", "3", "--lr", "1e30", "--out", out})),
                      Contains("lower the learning rate"));
  CHECK(!fs::exists(out));
  CHECK(gs::testing::listing(tmp.dir) == std::vector<std::string>{"plain.txt"});
  // and the folder appears, with its files, when the run succeeds
  REQUIRE(gs::cli::run_bottleneck(small({"--steps", "2", "--every", "2", "--out", out})) == 0);
  CHECK(fs::exists(fs::path(out) / "run.json"));
}

TEST_CASE("outputs: train --checkpoint and graph --out are checked before the text is read or the graph built",
          "[cli][outputs]") {
  gs::testing::TempDir tmp("gs_outputs_");
  const std::string missing = tmp / "no/such/folder/ck.safetensors";
  REQUIRE_THROWS_WITH(gs::cli::run_train(small({"--steps", "30", "--save-every", "10", "--checkpoint", missing})),
                      StartsWith("--checkpoint: " + missing + ": cannot be written: its folder") &&
                          Contains("does not exist"));
  // a folder where the checkpoint should go: refused, not replaced by a file
  fs::create_directory(tmp / "ck_is_a_folder");
  REQUIRE_THROWS_WITH(gs::cli::run_train(small({"--steps", "3", "--checkpoint", tmp / "ck_is_a_folder"})),
                      Contains("exists and is not a regular file (a folder)"));
  REQUIRE_THROWS_WITH(gs::cli::run_graph({"--out", tmp / "nope/graph.dot"}),
                      StartsWith("--out: " + (tmp / "nope/graph.dot")));
  CHECK(gs::testing::listing(tmp.dir) == std::vector<std::string>{"ck_is_a_folder"});
}

TEST_CASE("outputs: a --json inside the planned --out folder is accepted (the folder is made with the results)",
          "[cli][outputs]") {
  gs::testing::TempDir tmp("gs_outputs_");
  const std::string out = tmp / "runs/x", json = out + "/r.json";
  REQUIRE(gs::cli::run_head_rank(small({"--ranks", "2,4", "--steps", "2", "--out", out, "--json", json})) == 0);
  CHECK(fs::is_regular_file(json));
  CHECK(fs::is_regular_file(fs::path(out) / "run.json"));
  // one level deeper is not made by anyone: refused before the work
  REQUIRE_THROWS_WITH(gs::cli::run_head_rank(small({"--ranks", "2,4", "--steps", "2", "--out", tmp / "runs/y", "--json",
                                                    tmp / "runs/y/sub/r.json"})),
                      Contains("does not exist"));
  CHECK(!fs::exists(tmp / "runs/y"));
}

TEST_CASE("outputs: OutputFolder removes what it made unless kept, and never a folder that existed",
          "[cli][outputs]") {
  gs::testing::TempDir tmp("gs_outputs_");
  {
    gs::cli::OutputFolder f(tmp / "a/b/c");  // a write failed: not kept
    REQUIRE(fs::is_directory(tmp / "a/b/c"));
    std::ofstream(tmp / "a/b/c/run.json") << "{}";
  }
  CHECK(!fs::exists(tmp / "a"));  // the topmost folder it made, with everything in it
  {
    gs::cli::OutputFolder f(tmp / "kept");
    f.keep();
  }
  CHECK(fs::is_directory(tmp / "kept"));
  {
    gs::cli::OutputFolder f(tmp / "kept");  // existed: left alone
  }
  CHECK(fs::is_directory(tmp / "kept"));
}
