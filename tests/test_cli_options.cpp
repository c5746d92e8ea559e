// The CLI's option parser (flags with values, numbers that are not finite), and options a command
// must refuse rather than ignore or fail on late.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "demos/cli/commands.h"
#include "demos/cli/options.h"
#include "tests/temp_dir.h"

using gs::cli::Options;
using Catch::Matchers::Contains;

namespace {
Options make() {
  Options o("t", "test");
  o.flag("tied", "a flag").add("lr", "1e-3", "a number");
  return o;
}
}  // namespace

TEST_CASE("options: --flag=VALUE says which way, anything else is refused", "[cli][options]") {
  for (const char* on : {"--tied", "--tied=true", "--tied=yes", "--tied=1", "--tied=on"}) {
    Options o = make();
    REQUIRE(o.parse({on}));
    CHECK(o.on("tied"));
  }
  // before, "--tied=no" set the flag
  for (const char* off : {"--tied=false", "--tied=no", "--tied=0", "--tied=off"}) {
    Options o = make();
    REQUIRE(o.parse({off}));
    CHECK_FALSE(o.on("tied"));
  }
  Options o = make();
  REQUIRE(o.parse({}));
  CHECK_FALSE(o.on("tied"));
  CHECK_THROWS_WITH(make().parse({"--tied=maybe"}), Contains("option --tied") && Contains("got 'maybe'"));
  Options last = make();
  REQUIRE(last.parse({"--tied", "--tied=no"}));  // the last one wins, as for every option
  CHECK_FALSE(last.on("tied"));
}

TEST_CASE("options: NaN and infinity are refused naming the option", "[cli][options]") {
  for (const char* bad : {"nan", "NaN", "inf", "-inf", "1e999"}) {
    Options o = make();
    REQUIRE(o.parse({"--lr", bad}));
    INFO(bad);
    CHECK_THROWS_WITH(o.number("lr"), Contains("option --lr"));
  }
  Options o = make();
  REQUIRE(o.parse({"--lr", "2.5e-4"}));
  CHECK(o.number("lr") == 2.5e-4);
}

TEST_CASE("options: equal-norm --checkpoint refuses model options it would ignore, --seq-len fits the context",
          "[cli][options]") {
  gs::test::TempDir tmp("gs_opts_en_");
  const std::string ck = tmp / "ck.safetensors", out = tmp / "out", json = tmp / "r.json";
  REQUIRE(gs::cli::run_train({"--d-model", "8", "--layers", "1", "--heads", "2", "--seq-len", "16", "--batch", "2",
                              "--steps", "1", "--checkpoint", ck}) == 0);
  // --d-model 99 used to be ignored without a word (the model is the checkpoint's)
  for (const char* opt : {"--d-model", "--layers", "--train-steps"})
    REQUIRE_THROWS_WITH(gs::cli::run_equal_norm({"--checkpoint", ck, opt, "3", "--out", out}),
                        Catch::Contains(std::string("option ") + opt + ": the model comes from --checkpoint " + ck));
  // the default --seq-len (64) exceeds this model's context 16: shortened to it, as analyze does,
  // instead of "--seq-len 64 exceeds the model's context 16"
  REQUIRE(gs::cli::run_equal_norm({"--checkpoint", ck, "--batch", "2", "--eps", "1", "--out", out, "--json", json}) == 0);
  nlohmann::json j;
  std::ifstream(json) >> j;
  CHECK(j["config"]["seq_len"] == 16);
  // given explicitly, a --seq-len beyond the context is still refused
  REQUIRE_THROWS_WITH(gs::cli::run_equal_norm({"--checkpoint", ck, "--seq-len", "32", "--out", out}),
                      Catch::Contains("--seq-len 32 exceeds the model's context 16"));
}

TEST_CASE("options: a batch whose ids alone exceed the machine's memory is refused by size, not std::bad_alloc",
          "[cli][options]") {
  REQUIRE_THROWS_WITH(gs::cli::run_train({"--d-model", "8", "--layers", "1", "--heads", "2", "--seq-len", "16",
                                          "--batch", "1000000000000", "--steps", "1"}),
                      Catch::Contains("B = 1000000000000 sequences of T = 16 tokens: their ids alone need") &&
                          Catch::Contains("more than this machine's"));
}
