// gradscope bottleneck at tiny size: it runs, writes every file, its numbers are in range, and the
// final measurement recomputed from its dumped inputs (--dump-final) matches run.json.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "demos/cli/commands.h"
#include "tests/head_metrics_reference.h"

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
    REQUIRE_FALSE(fs::exists(dir / "final_H.npy"));  // only with --dump-final
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
    // every trace row has an id, unique within its measurement, in run.json and node_trace.csv
    std::set<std::string> json_ids;
    for (const auto& row : j["final"]["trace"]) CHECK(json_ids.insert(row["id"].get<std::string>()).second);
    CHECK(json_ids.size() == j["final"]["trace"].size());
    std::ifstream csv(dir / "node_trace.csv");
    std::string line;
    REQUIRE(std::getline(csv, line));
    CHECK(line == "step,order,id,name,op,shape,grad_norm,relative,below_head");
    // one trace per measurement, each starting at order 0: steps 0, 2, 4 and the final one
    std::vector<std::set<std::string>> traces;
    size_t rows = 0;
    while (std::getline(csv, line)) {
      const size_t a = line.find(','), b = line.find(',', a + 1), c = line.find(',', b + 1);
      REQUIRE(c != std::string::npos);
      const std::string order = line.substr(a + 1, b - a - 1), id = line.substr(b + 1, c - b - 1);
      if (order == "0") traces.emplace_back();
      REQUIRE_FALSE(traces.empty());
      CHECK(traces.back().insert(id).second);  // no id twice in one trace
      ++rows;
    }
    CHECK(traces.size() == 4);
    CHECK(rows > traces.size() * 5);
    CHECK(traces.back() == json_ids);  // the final trace, as in run.json
  }
  fs::remove_all(dir);
}

// The range checks above hold for any orthogonal split (d^2 + c^2 = 1 by construction); this one
// recomputes the logged final metrics from the head's own inputs, independently of analysis/.
TEST_CASE("bottleneck: --dump-final inputs reproduce run.json's final metrics", "[cli][bottleneck]") {
  using namespace gs::testing;
  const fs::path dir = fs::temp_directory_path() / "gs_test_bottleneck_dump";
  // a full head on one backbone, a factorized one (H = down(h), [N, r]) on another
  const std::vector<std::pair<std::string, std::string>> cases{{"transformer", "full"}, {"ssm", "factorized"}};
  for (const auto& [backbone, head] : cases) {
    INFO(backbone << ", " << head << " head");
    fs::remove_all(dir);
    std::vector<std::string> args{"--steps", "4",   "--every",    "2",       "--d-model", "8",  "--layers",
                                  "1",       "--heads", "2",      "--seq-len", "8",       "--batch", "2",
                                  "--backbone", backbone, "--head", head,      "--out",   dir.string(), "--dump-final"};
    if (head == "factorized") args.insert(args.end(), {"--rank", "4"});
    REQUIRE(gs::cli::run_bottleneck(args) == 0);
    nlohmann::json j;
    std::ifstream(dir / "run.json") >> j;
    const auto& f = j["final"];
    const int64_t k = head == "full" ? 8 : 4;  // D, or the factorized head's rank
    const DumpedHeadInputs in = load_dumped_head_inputs((dir / "final_").string());
    REQUIRE(in.N == 2 * 8);
    REQUIRE(in.V == 256);
    REQUIRE(in.k == k);
    const ReferenceHeadMetrics ref = reference_head_metrics(in);
    REQUIRE(ref.rank == k);  // a random init is full rank
    CHECK(f["tokens"] == ref.tokens);
    CHECK(f["dim"] == k);
    const double rtol = kLoggedMetricRtol;  // float32 products against float64 (head_metrics_reference.h)
    CHECK(f["loss"].get<double>() == Approx(ref.loss).epsilon(rtol));
    CHECK(f["logit_grad_norm"].get<double>() == Approx(ref.logit_grad_norm).epsilon(rtol));
    CHECK(f["destroyed_fraction"].get<double>() == Approx(ref.destroyed_fraction).epsilon(rtol));
    CHECK(f["visible_cosine"].get<double>() == Approx(ref.visible_cosine).epsilon(rtol));
    CHECK(f["visible_norm"].get<double>() == Approx(ref.visible_cosine * ref.logit_grad_norm).epsilon(rtol));
    CHECK(f["per_token_destroyed"]["mean"].get<double>() == Approx(ref.per_token_destroyed_mean).epsilon(rtol));
    CHECK(f["update"]["cosine"].get<double>() == Approx(ref.update_cosine).epsilon(rtol));
    // the comparison can tell a squared destroyed fraction from the right one
    const double d = ref.destroyed_fraction;
    CHECK(std::abs(d * d - d) > 100 * rtol * d);
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
