// The training loop: learns, is deterministic, and resumes from a checkpoint bit for bit.
#include <catch2/catch.hpp>

#include "demos/cli/commands.h"

#include <cstdio>
#include <filesystem>

#include "nn/trainer.h"

using namespace gs;
using namespace gs::nn;

namespace {
LMConfig tiny(const std::string& backbone = "transformer") {
  LMConfig c;
  c.backbone = backbone;
  c.vocab = 12;
  c.d_model = 16;
  c.n_layer = 1;
  c.n_head = 2;
  c.context = 16;
  c.seed = 5;
  return c;
}
// A periodic stream 0 1 2 ... 11 0 1 2 ...: the next token is a function of the current one.
TokenStream periodic(int64_t n = 600) {
  std::vector<int64_t> t(n);
  for (int64_t i = 0; i < n; ++i) t[i] = i % 12;
  return TokenStream(t, 12);
}
TrainConfig cfg(int64_t steps) {
  TrainConfig c;
  c.steps = steps;
  c.batch = 4;
  c.seq_len = 8;
  c.lr = 1e-2;
  c.warmup = 2;
  c.progress = false;
  c.seed = 9;
  return c;
}
std::string tmp(const std::string& name) { return (std::filesystem::temp_directory_path() / name).string(); }
}  // namespace

TEST_CASE("trainer: the loss falls on a learnable stream and the callback sees every step", "[nn][trainer]") {
  Trainer t(make_language_model(tiny()), periodic(), cfg(60));
  int64_t calls = 0;
  auto losses = t.run([&](const StepInfo& s) {
    ++calls;
    REQUIRE(s.step == calls);
    REQUIRE(s.batch.inputs.shape() == Shape{4, 8});
    REQUIRE(std::isfinite(s.grad_norm));
  });
  REQUIRE(calls == 60);
  REQUIRE(losses.size() == 60);
  REQUIRE(losses.front() > 2.0);  // ~ ln 12 = 2.48 at init
  REQUIRE(losses.back() < 0.5 * losses.front());
}

TEST_CASE("trainer: same seed, same losses, resume reproduces the uninterrupted run bit for bit", "[nn][trainer]") {
  Trainer full(make_language_model(tiny()), periodic(), cfg(12));
  const auto ref = full.run();

  const std::string path = tmp("gs_trainer_resume.safetensors");
  // stop after 6 of the 12 steps (the schedule's horizon stays 12: it is part of the run),
  // checkpoint, and finish in a fresh process-like setup
  std::vector<double> part1;
  {
    int64_t n = 0;
    TrainConfig c = cfg(12);
    Trainer t(make_language_model(tiny()), periodic(), c);
    struct Stop {};
    try {
      t.run([&](const StepInfo& s) {
        part1.push_back(s.loss);
        if (++n == 6) {
          t.save(path);
          throw Stop{};
        }
      });
    } catch (const Stop&) {
    }
  }
  REQUIRE(part1.size() == 6);
  Trainer b(make_language_model(tiny()), periodic(), cfg(12));
  b.resume(path);
  REQUIRE(b.step() == 6);
  const auto part2 = b.run();
  REQUIRE(part2.size() == 6);
  for (size_t i = 0; i < 6; ++i) {
    REQUIRE(part1[i] == ref[i]);      // bit-identical, not approximately
    REQUIRE(part2[i] == ref[6 + i]);
  }
  // a checkpoint for another model configuration is refused and changes nothing
  LMConfig other = tiny();
  other.d_model = 8;
  Trainer c(make_language_model(other), periodic(), cfg(12));
  // the message names the differing field with both values, and has no doubled ": "
  REQUIRE_THROWS_WITH(c.resume(path), Catch::Matchers::Contains(path + ": checkpoint was written for a different model "
                                                                        "configuration (d_model ") &&
                                          Catch::Matchers::Contains(" in the checkpoint, 8 in this run)"));
  REQUIRE(c.step() == 0);
  std::remove(path.c_str());
}

TEST_CASE("trainer: bad configurations are named", "[nn][trainer]") {
  TrainConfig c = cfg(5);
  c.optimizer = "lbfgs";
  REQUIRE_THROWS_WITH(Trainer(make_language_model(tiny()), periodic(), c),
                      "TrainConfig: unknown optimizer 'lbfgs' (expected sgd, adam or adamw)");
  c = cfg(5);
  c.seq_len = 64;
  REQUIRE_THROWS_WITH(Trainer(make_language_model(tiny()), periodic(), c),
                      "Trainer: seq_len 64 exceeds the model's context 16");
  // negative steps name the field (it used to surface as the schedule's "warmup must be >= 0")
  c = cfg(5);
  c.steps = -1;
  REQUIRE_THROWS_WITH(Trainer(make_language_model(tiny()), periodic(), c),
                      Catch::Matchers::StartsWith("Trainer: steps >= 0") && Catch::Matchers::Contains("steps = -1"));
  c = cfg(5);
  c.checkpoint_every = -5;
  REQUIRE_THROWS_WITH(Trainer(make_language_model(tiny()), periodic(), c),
                      Catch::Matchers::Contains("checkpoint_every must be >= 0") && Catch::Matchers::Contains("-5"));
}

TEST_CASE("train command: --save-every below 1 and --steps below 0 are refused by name", "[nn][trainer][cli]") {
  for (const char* every : {"0", "-5"})
    REQUIRE_THROWS_WITH(cli::run_train({"--steps", "2", "--save-every", every, "--checkpoint", "/nonexistent/ck"}),
                        Catch::Matchers::Contains("option --save-every: must be >= 1"));
  REQUIRE_THROWS_WITH(cli::run_train({"--steps", "-1"}), Catch::Matchers::Contains("option --steps: must be >= 0"));
}
