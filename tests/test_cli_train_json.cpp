// gradscope train --json: one entry per step with the loss the training reported, and the world
// size (1 outside mpirun; tests/mpi/train_check.cpp covers the data-parallel run itself).
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "demos/cli/commands.h"
#include "tests/temp_dir.h"

TEST_CASE("train --json: world size and every step's loss and tokens/s", "[cli][train]") {
  gs::testing::TempDir tmp;
  const auto text = tmp.dir / "t.txt", js = tmp.dir / "train.json";
  std::ofstream(text) << "the quick brown fox jumps over the lazy dog. " << std::string(400, 'a') << "\n";
  REQUIRE(gs::cli::run_train({"--text", text.string(), "--steps", "5", "--batch", "2", "--seq-len", "8", "--d-model",
                              "8", "--layers", "1", "--heads", "2", "--json", js.string()}) == 0);
  nlohmann::json j;
  std::ifstream(js) >> j;
  CHECK(j.at("world_size") == 1);
  REQUIRE(j.at("steps").size() == 5);
  for (size_t i = 0; i < 5; ++i) {
    const auto& s = j["steps"][i];
    CHECK(s.at("step") == int64_t(i + 1));
    CHECK(std::isfinite(s.at("loss").get<double>()));
    CHECK(s.at("loss").get<double>() > 0);
    CHECK(s.at("tokens_per_s").get<double>() > 0);
  }
}
