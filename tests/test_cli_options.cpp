// The CLI's option parser (flags with values, numbers that are not finite), and options a command
// must refuse rather than ignore or fail on late.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

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

TEST_CASE("options: help shows each declared default, and none for an empty one", "[cli][options]") {
  Options o("t", "test");
  o.add("lr", "1e-3", "a number").add("json", "", "write JSON here").flag("tied", "a flag");
  REQUIRE(o.parse({"--lr", "5", "--json", "x.json"}));
  const std::string h = o.help();
  CHECK_THAT(h, Contains("a number (default 1e-3)\n"));  // the declared default, not the parsed 5
  CHECK_THAT(h, Contains("write JSON here\n"));         // it printed "(default )"
  CHECK_THAT(h, Contains("a flag\n"));
  CHECK(h.find("(default )") == std::string::npos);
  CHECK(h.find("(default x.json)") == std::string::npos);
  // every command's --help, run as the built binary (it lives in <build>/, the tests in <build>/tests/)
  const std::string exe = (std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "gradscope").string();
  for (const char* command : {"analyze", "backbones", "bottleneck", "graph", "mlp-demo", "tokenize", "train", "spamlang",
                              "head-rank", "equal-norm"}) {
    INFO(command);
    FILE* p = popen(("'" + exe + "' " + command + " --help").c_str(), "r");
    REQUIRE(p);
    std::string out;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    CHECK(pclose(p) == 0);
    CHECK_THAT(out, Contains("usage: gradscope " + std::string(command)));
    CHECK(out.find("(default )") == std::string::npos);
  }
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
  gs::testing::TempDir tmp("gs_opts_en_");
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
