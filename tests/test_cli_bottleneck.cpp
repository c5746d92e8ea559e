// gradscope bottleneck at tiny size: it runs, writes every file, and its numbers are in range.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "demos/cli/commands.h"

namespace fs = std::filesystem;

TEST_CASE("bottleneck: files, JSON keys, values in range, leak test ~0", "[cli][bottleneck]") {
  const fs::path dir = fs::temp_directory_path() / "gs_test_bottleneck";
  fs::remove_all(dir);
  for (const std::string backbone : {"transformer", "gru", "ssm"}) {
    INFO(backbone);
    const int rc = gs::cli::run_bottleneck({"--steps", "4", "--every", "2", "--d-model", "8", "--layers", "1", "--heads",
                                           "2", "--seq-len", "8", "--batch", "2", "--backbone", backbone, "--out",
                                           dir.string()});
    REQUIRE(rc == 0);
    for (const char* f : {"run.json", "metrics.csv", "node_trace.csv", "destroyed_fraction.dat", "destroyed_fraction.gp"})
      REQUIRE(fs::exists(dir / f));
    nlohmann::json j;
    std::ifstream(dir / "run.json") >> j;
    REQUIRE(j["measurements"].size() == 3);  // steps 0, 2, 4
    REQUIRE(j["device"] == "cpu");             // the default --device
    for (const auto& m : j["measurements"]) {
      for (const char* k : {"tokens", "vocab", "dim", "loss", "logit_grad_norm", "visible_norm", "destroyed_fraction",
                            "visible_cosine", "per_token_destroyed", "update", "spectrum", "trace"})
        REQUIRE(m.contains(k));
      const double d = m["destroyed_fraction"], c = m["visible_cosine"];
      REQUIRE(d > 0);
      REQUIRE(d <= 1);
      REQUIRE(d * d + c * c == Approx(1.0).epsilon(1e-6));  // an orthogonal split
      REQUIRE(m["vocab"] == 256);
      REQUIRE(m["dim"] == 8);
    }
    REQUIRE(j["final"]["leak"]["destroyed_max"].get<double>() < 1e-4);  // float32 model
    REQUIRE(j["final"]["leak"]["visible_max_diff"].get<double>() < 1e-3);
    // the first layer's output node, as the backbones name it (nn/transformer.cpp, gru.cpp, ssm.cpp)
    CHECK(j["final"]["first_block_node"] == (backbone == "transformer" ? "backbone.blocks.0" : "backbone.layers.0"));
  }
  fs::remove_all(dir);
}

TEST_CASE("bottleneck: SpamLang data with a chosen V, V = D destroys nothing", "[cli][bottleneck]") {
  const fs::path dir = fs::temp_directory_path() / "gs_test_bottleneck_spamlang";
  for (const int64_t V : {8, 200}) {
    INFO("V = " << V);
    fs::remove_all(dir);
    REQUIRE(gs::cli::run_bottleneck({"--spamlang", "--vocab", std::to_string(V), "--steps", "4", "--every", "2",
                                     "--d-model", "8", "--layers", "1", "--heads", "2", "--seq-len", "4", "--batch", "3",
                                     "--backbone", "ssm", "--out", dir.string()}) == 0);
    nlohmann::json j;
    std::ifstream(dir / "run.json") >> j;
    REQUIRE(j["data"].get<std::string>().rfind("SpamLang V=" + std::to_string(V), 0) == 0);
    REQUIRE(j["measurements"].size() == 3);
    for (const auto& m : j["measurements"]) {
      REQUIRE(m["vocab"] == V);
      REQUIRE(m["tokens"] == 12);
      const double d = m["destroyed_fraction"];
      // D = V: col(W) is all of R^V (W is [V, V], full rank for a random init) -> nothing destroyed;
      // V = 200 > D: most of G lies outside the 8-dimensional column space
      if (V == 8) REQUIRE(d < 1e-3);
      else REQUIRE((d > 0.5 && d <= 1));
    }
    REQUIRE(j["final"]["leak"]["destroyed_max"].get<double>() < 1e-4);
  }
  fs::remove_all(dir);
}

TEST_CASE("bottleneck: bad arguments are named", "[cli][bottleneck]") {
  using Catch::Matchers::Contains;
  REQUIRE_THROWS_WITH(gs::cli::run_bottleneck({"--head", "factorized", "--rank", "64"}),
                      Contains("rank 64 exceeds the hidden width D = 32"));
  REQUIRE_THROWS_WITH(gs::cli::run_bottleneck({"--vocab", "100"}), Contains("text with the byte tokenizer needs V >= 256"));
  REQUIRE_THROWS_WITH(gs::cli::run_bottleneck({"--spamlang", "--text", "x.txt"}), Contains("exclude each other"));
  REQUIRE_THROWS_WITH(gs::cli::run_bottleneck({"--zipf", "1"}), Contains("--zipf: only with --spamlang"));
  REQUIRE_THROWS_WITH(gs::cli::run_bottleneck({"--every", "0"}), Contains("--every: must be >= 1"));
  REQUIRE_THROWS_WITH(gs::cli::run_bottleneck({"--steps", "0"}), Contains("--steps: must be >= 1"));
  REQUIRE_THROWS_WITH(gs::cli::run_bottleneck({"--backbone", "lstm"}),
                      Catch::Matchers::Contains("unknown backbone 'lstm'"));
  REQUIRE_THROWS_WITH(gs::cli::run_bottleneck({"--steps", "ten"}), Catch::Matchers::Contains("--steps: 'ten' is not an integer"));
  REQUIRE_THROWS_WITH(gs::cli::run_bottleneck({"--frobnicate", "1"}), Catch::Matchers::Contains("unknown option --frobnicate"));
}
