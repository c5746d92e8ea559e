// gradscope remedies: the JSON of a tiny comparison (keys, the metric each head must get, nulls for
// heads that are not linear, the matched-budget parameter counts in closed form) and its errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "demos/cli/commands.h"
#include "tests/temp_dir.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

TEST_CASE("remedies: every head measured with the right metric, budgets in closed form", "[cli][remedies]") {
  gs::testing::TempDir tmp;
  const fs::path dir = tmp.dir / "out", js = tmp.dir / "r.json";
  const int64_t D = 4, V = 256;  // byte tokenizer
  REQUIRE(gs::cli::run_remedies({"--compare", "full,factorized,mos,mlp,sigsoftmax", "--d-model", "4", "--heads", "2",
                                 "--steps", "3", "--batch", "2", "--seq-len", "6", "--spamlang-ratios", "4,8",
                                 "--spamlang-steps", "2", "--out", dir.string(), "--json", js.string()}) == 0);
  for (const char* f : {"run.json", "remedies.csv", "remedies.dat"}) REQUIRE(fs::exists(dir / f));
  nlohmann::json j;
  std::ifstream(js) >> j;
  REQUIRE(j.size() == 1);
  const auto& heads = j.at("heads");
  REQUIRE(heads.size() == 5);
  for (const auto& h : heads) {
    INFO(h.dump());
    for (const char* k : {"head", "head_parameters", "metric", "destroyed_fraction", "linear_destroyed_fraction",
                          "leak_destroyed_max", "spamlang_accuracy", "loss", "ms_per_step"})
      REQUIRE(h.contains(k));
    const std::string name = h["head"];
    const bool linear = name == "full" || name == "factorized";
    CHECK(h["metric"] == (linear ? "column_space" : "jacobian"));
    CHECK(h["linear_destroyed_fraction"].is_null() == !linear);
    if (linear) CHECK(h["linear_destroyed_fraction"].get<double>() == h["destroyed_fraction"].get<double>());
    const double d = h["destroyed_fraction"];
    CHECK(d > 0);
    CHECK(d < 1);
    CHECK(h["spamlang_accuracy"].contains("16"));  // V = 4 D
    CHECK(h["spamlang_accuracy"].contains("32"));  // V = 8 D
  }
  // head parameters: full V D; factorized r (V + D) with r = floor(V D / (V + D)); mos adds
  // K (D^2 + D) projections and a K x D gate (K = 2); mlp adds D^2 + D; sigsoftmax nothing
  const int64_t r = V * D / (V + D);
  CHECK(heads[0]["head_parameters"] == V * D);
  CHECK(heads[1]["head_parameters"] == r * (V + D));
  CHECK(heads[2]["head_parameters"] == V * D + 2 * (D * D + D) + 2 * D);
  CHECK(heads[3]["head_parameters"] == V * D + D * D + D);
  CHECK(heads[4]["head_parameters"] == V * D);
}

TEST_CASE("remedies: unknown heads and bad ratios are refused before any work", "[cli][remedies][errors]") {
  gs::testing::TempDir tmp;
  const std::string out = (tmp.dir / "out").string();
  CHECK_THROWS_WITH(gs::cli::run_remedies({"--compare", "full,lowrank", "--out", out}),
                    Contains("--compare: unknown head 'lowrank'"));
  CHECK_THROWS_WITH(gs::cli::run_remedies({"--compare", "full", "--spamlang-ratios", "1", "--steps", "1", "--out", out}),
                    Contains("remedies: a SpamLang ratio V / D must be >= 2, got 1"));
  CHECK_FALSE(fs::exists(out));
}
