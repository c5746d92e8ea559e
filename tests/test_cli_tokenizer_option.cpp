// --tokenizer on the commands that read text: the ids a model is trained on come from the named
// tokenizer, the checkpoint records it, and a checkpoint is never fed another tokenizer's ids
// (train --resume, analyze, equal-norm refuse, naming both). SpamLang refuses the option.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "demos/cli/commands.h"
#include "nn/checkpoint.h"
#include "nn/lm.h"
#include "temp_dir.h"
#include "tokenizer/tokenizer.h"

using namespace gs;
using Catch::Matchers::Contains;

namespace {

// A short text whose GPT-2 ids are many fewer than its bytes.
std::string write_text(const testing::TempDir& tmp) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "The quick brown fox jumps over the lazy dog, again and again. ";
  std::ofstream(tmp / "text.txt") << text;
  return tmp / "text.txt";
}

}  // namespace

TEST_CASE("LMConfig records the tokenizer, older maps without it mean byte", "[nn][tokenizer]") {
  nn::LMConfig c;
  CHECK(c.tokenizer == "byte");
  c.tokenizer = "gpt2";
  auto m = c.to_map();
  CHECK(m.at("tokenizer") == "gpt2");
  CHECK(nn::LMConfig::from_map(m) == c);
  m.erase("tokenizer");
  CHECK(nn::LMConfig::from_map(m).tokenizer == "byte");
  c.tokenizer = "bpe";
  CHECK_THROWS_WITH(c.validate(), "LMConfig: unknown tokenizer 'bpe' (valid: byte, gpt2)");
}

TEST_CASE("train --tokenizer gpt2: V = 50257, GPT-2 ids, recorded, resume and analyze refuse byte", "[cli][tokenizer]") {
  testing::TempDir tmp("gs_tok_opt_");
  const std::string text = write_text(tmp), ck = tmp / "m.safetensors";
  const std::vector<std::string> common = {"--text", text, "--d-model", "8", "--layers", "1", "--heads", "2",
                                           "--seq-len", "8", "--batch", "2", "--checkpoint", ck};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = common;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  REQUIRE(cli::run_train(with({"--tokenizer", "gpt2", "--steps", "2"})) == 0);
  const nn::Checkpoint saved = nn::load_checkpoint(ck);
  const nn::LMConfig cfg = nn::LMConfig::from_map(saved.config, false);
  CHECK(cfg.tokenizer == "gpt2");
  CHECK(cfg.vocab == 50257);
  CHECK(saved.model.at("head.weight").size(0) == 50257);

  // resuming with the default (byte) tokenizer: refused, naming both, before anything is written
  CHECK_THROWS_WITH(cli::run_train(with({"--steps", "4", "--resume"})),
                    Contains("trained on ids of the 'gpt2' tokenizer, this run uses 'byte'"));
  CHECK(nn::load_checkpoint(ck).step == 2);  // the refused resume wrote nothing
  // a longer run than the checkpoint's is another run: refused unless asked for
  CHECK_THROWS_WITH(cli::run_train(with({"--tokenizer", "gpt2", "--steps", "4", "--resume"})),
                    Contains("steps 2 in the checkpoint, 4 in this run") && Contains("pass --allow-run-change"));
  REQUIRE(cli::run_train(with({"--tokenizer", "gpt2", "--steps", "4", "--resume", "--allow-run-change"})) == 0);
  CHECK(nn::load_checkpoint(ck).step == 4);

  CHECK_THROWS_WITH(cli::run_analyze({"--checkpoint", ck, "--text", text, "--tokenizer", "byte", "--batch", "2",
                                      "--seq-len", "8"}),
                    Contains("--tokenizer byte: " + ck + " was trained on ids of the 'gpt2' tokenizer"));
  const std::string json = tmp / "a.json";
  REQUIRE(cli::run_analyze({"--checkpoint", ck, "--text", text, "--batch", "2", "--seq-len", "8", "--json", json}) == 0);
  nlohmann::json j;
  std::ifstream(json) >> j;
  CHECK(j["vocab"] == 50257);
}

TEST_CASE("bottleneck --tokenizer gpt2 trains on GPT-2 ids, SpamLang and unknown names are refused",
          "[cli][tokenizer]") {
  testing::TempDir tmp("gs_tok_bn_");
  const std::string text = write_text(tmp), out = tmp / "run";
  REQUIRE(cli::run_bottleneck({"--text", text, "--tokenizer", "gpt2", "--steps", "2", "--every", "2", "--d-model",
                               "8", "--layers", "1", "--heads", "2", "--seq-len", "8", "--batch", "2", "--out", out}) == 0);
  nlohmann::json j;
  std::ifstream(std::filesystem::path(out) / "run.json") >> j;
  for (const auto& m : j["measurements"]) CHECK(m["vocab"] == 50257);
  // run.json's model section is typed: numbers and booleans, and vocab is the tokenizer's size
  CHECK(j["model"]["vocab"].is_number_integer());
  CHECK(j["model"]["vocab"] == 50257);
  CHECK(j["model"]["d_model"] == 8);
  CHECK(j["model"]["tied"].is_boolean());
  CHECK(j["model"]["tokenizer"] == "gpt2");
  // the kinds and the dtype by name (LMConfig holds them as enums)
  CHECK(j["model"]["backbone"] == "transformer");
  CHECK(j["model"]["head"] == "full");
  CHECK(j["model"]["dtype"] == "float32");
  CHECK_THROWS_WITH(cli::run_bottleneck({"--spamlang", "--tokenizer", "gpt2"}),
                    Contains("SpamLang has its own symbols"));
  CHECK_THROWS_WITH(cli::run_bottleneck({"--tokenizer", "bpe"}), Contains("unknown tokenizer 'bpe'"));
  CHECK_THROWS_WITH(cli::run_bottleneck({"--tokenizer", "gpt2", "--vocab", "256"}),
                    Contains("text with the gpt2 tokenizer needs V >= 50257"));
}

TEST_CASE("bottleneck --tokenizer gpt2 defaults to the paper's regime on the fortunes corpus", "[cli][tokenizer]") {
  testing::TempDir tmp("gs_tok_bn_defaults_");
  const std::string out = tmp / "run";
  // every paper-scale default but the length of the run (1 step, 1 sequence: the test's budget)
  REQUIRE(cli::run_bottleneck({"--tokenizer", "gpt2", "--steps", "1", "--batch", "1", "--out", out}) == 0);
  nlohmann::json j;
  std::ifstream(std::filesystem::path(out) / "run.json") >> j;
  CHECK(j["model"]["vocab"] == 50257);
  CHECK(j["model"]["d_model"] == 128);  // V / D = 393 >= 196
  CHECK(j["model"]["n_layer"] == 2);
  CHECK(j["train"]["seq_len"] == 128);
  CHECK(j["train"]["steps"] == 1);
  CHECK(j["data"].get<std::string>().find("fortunes corpus") == 0);
  for (const auto& m : j["measurements"]) {
    CHECK(m["pass"] == "fused");
    CHECK(m["spectrum"]["exact"] == true);
    CHECK(m["tokens"] == 128);
  }
  // the byte-level default is unchanged: the embedded text, D = 32
  const std::string out2 = tmp / "run2";
  REQUIRE(cli::run_bottleneck({"--steps", "1", "--batch", "1", "--out", out2}) == 0);
  nlohmann::json b;
  std::ifstream(std::filesystem::path(out2) / "run.json") >> b;
  CHECK(b["model"]["d_model"] == 32);
  CHECK(b["model"]["vocab"] == 256);
  CHECK(b["data"].get<std::string>().find("embedded text") == 0);
  CHECK(b["train"]["seq_len"] == 64);
}
