// gradscope backbones at tiny size: every backbone and seed runs, the files and keys exist, the
// values are in range, the summary is the mean and spread of the runs, each run's final metrics
// recomputed from its dumped inputs (--dump-final) match run.json, and bad arguments are named.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "demos/cli/commands.h"
#include "tests/head_metrics_reference.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

nlohmann::json run_tiny(const fs::path& dir, std::vector<std::string> extra) {
  fs::remove_all(dir);
  std::vector<std::string> args{"--steps", "4",   "--every", "2",        "--seeds", "2",          "--d-model",
                                "8",       "--layers", "1", "--heads", "2", "--seq-len", "6", "--batch", "2",
                                "--out",   dir.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  REQUIRE(gs::cli::run_backbones(args) == 0);
  nlohmann::json j;
  std::ifstream(dir / "run.json") >> j;
  return j;
}

}  // namespace

TEST_CASE("backbones: files, keys, ranges, the summary is the mean and std of the runs", "[cli][backbones]") {
  const fs::path dir = fs::temp_directory_path() / "gs_test_backbones";
  const auto j = run_tiny(dir, {});
  for (const char* f : {"run.json", "runs.csv", "curves.csv", "table.md", "destroyed_fraction.dat", "destroyed_fraction.gp"})
    REQUIRE(fs::exists(dir / f));
  for (const char* k : {"config", "theory_destroyed", "runs", "summary", "table_markdown"}) REQUIRE(j.contains(k));
  REQUIRE(j["theory_destroyed"].get<double>() == Approx(std::sqrt(1 - 8.0 / 256.0)));  // k = D = 8, V = 256 bytes
  REQUIRE(j["runs"].size() == 3 * 2);
  REQUIRE_FALSE(fs::exists(dir / "final_transformer_seed0_H.npy"));  // only with --dump-final
  for (const auto& r : j["runs"]) {
    for (const char* k : {"backbone", "seed", "vocab", "dim", "k", "init_loss", "final_loss", "destroyed_init",
                          "destroyed_final", "update_cosine_final"})
      REQUIRE(r.contains(k));
    REQUIRE(r["vocab"] == 256);
    REQUIRE(r["k"] == 8);
    REQUIRE((r["seed"] == 0 || r["seed"] == 1));
    for (const char* k : {"destroyed_init", "destroyed_final"}) {
      const double d = r[k];
      REQUIRE((d > 0.5 && d <= 1));  // V/D = 32: most of G lies outside col(W)
    }
    const double l0 = r["init_loss"], l1 = r["final_loss"];
    REQUIRE((std::isfinite(l0) && l0 > 0 && l0 < 20 && std::isfinite(l1) && l1 > 0 && l1 < 20));
    const double c = r["update_cosine_final"];
    REQUIRE((c >= -1 && c <= 1));
  }
  REQUIRE(j["summary"].size() == 3);
  for (size_t b = 0; b < 3; ++b) {
    const auto& s = j["summary"][b];
    const auto &r0 = j["runs"][2 * b], &r1 = j["runs"][2 * b + 1];
    REQUIRE(s["backbone"] == r0["backbone"]);
    REQUIRE(s["seeds"] == 2);
    // two values: mean (a + b) / 2, sample std |a - b| / sqrt(2)
    const double a = r0["destroyed_final"], c = r1["destroyed_final"];
    REQUIRE(s["destroyed_final"]["mean"].get<double>() == Approx((a + c) / 2));
    REQUIRE(s["destroyed_final"]["std"].get<double>() == Approx(std::abs(a - c) / std::sqrt(2.0)));
  }
  // the Markdown table: a header, a separator and one row per backbone
  std::ifstream md(dir / "table.md");
  std::string line;
  int lines = 0;
  while (std::getline(md, line)) {
    REQUIRE(line.front() == '|');
    ++lines;
  }
  REQUIRE(lines == 2 + 3);
  fs::remove_all(dir);
}

// The checks above are ranges; this one recomputes every run's logged final metrics from the
// inputs of that measurement, independently of analysis/.
TEST_CASE("backbones: --dump-final inputs reproduce each run's final metrics", "[cli][backbones]") {
  using namespace gs::testing;
  const fs::path dir = fs::temp_directory_path() / "gs_test_backbones_dump";
  const auto j = run_tiny(dir, {"--dump-final"});
  REQUIRE(j["runs"].size() == 3 * 2);
  for (const auto& r : j["runs"]) {
    const std::string prefix = "final_" + r["backbone"].get<std::string>() + "_seed" +
                               std::to_string(r["seed"].get<int64_t>()) + "_";
    INFO(prefix);
    const DumpedHeadInputs in = load_dumped_head_inputs((dir / prefix).string());
    REQUIRE(in.N == 2 * 6);  // --batch 2 --seq-len 6
    REQUIRE(in.V == 256);
    REQUIRE(in.k == 8);
    const ReferenceHeadMetrics ref = reference_head_metrics(in);
    REQUIRE(ref.rank == 8);  // a random init is full rank
    const double rtol = kLoggedMetricRtol;  // float32 products against float64 (head_metrics_reference.h)
    CHECK(r["destroyed_final"].get<double>() == Approx(ref.destroyed_fraction).epsilon(rtol));
    CHECK(r["final_loss"].get<double>() == Approx(ref.loss).epsilon(rtol));
    CHECK(r["update_cosine_final"].get<double>() == Approx(ref.update_cosine).epsilon(rtol));
    // the comparison can tell a squared destroyed fraction from the right one
    const double d = ref.destroyed_fraction;
    CHECK(std::abs(d * d - d) > 100 * rtol * d);
  }
  fs::remove_all(dir);
}

TEST_CASE("backbones: a head with D = V destroys nothing on every backbone (SpamLang)", "[cli][backbones]") {
  const fs::path dir = fs::temp_directory_path() / "gs_test_backbones_spamlang";
  const auto j = run_tiny(dir, {"--spamlang", "--vocab", "8"});
  REQUIRE(j["theory_destroyed"].get<double>() == 0.0);
  for (const auto& r : j["runs"]) {
    REQUIRE(r["vocab"] == 8);
    REQUIRE(r["destroyed_init"].get<double>() < 1e-3);  // col(W) = R^V: nothing to destroy
    REQUIRE(r["destroyed_final"].get<double>() < 1e-3);
  }
  fs::remove_all(dir);
}

TEST_CASE("backbones: bad arguments are named", "[cli][backbones]") {
  using gs::cli::run_backbones;
  REQUIRE_THROWS_WITH(run_backbones({"--backbones", "gru,lstm"}), Contains("unknown backbone 'lstm'"));
  REQUIRE_THROWS_WITH(run_backbones({"--backbones", ""}), Contains("--backbones: the list is empty"));
  REQUIRE_THROWS_WITH(run_backbones({"--backbones", "gru,gru"}), Contains("'gru' is listed twice"));
  REQUIRE_THROWS_WITH(run_backbones({"--seeds", "0"}), Contains("--seeds: must be >= 1"));
  REQUIRE_THROWS_WITH(run_backbones({"--head", "factorized", "--rank", "40"}),
                      Contains("rank 40 exceeds the hidden width D = 32"));
  REQUIRE_THROWS_WITH(run_backbones({"--backbone", "gru"}), Contains("unknown option --backbone"));
}
