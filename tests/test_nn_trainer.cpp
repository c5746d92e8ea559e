// The training loop: learns, is deterministic, and resumes from a checkpoint bit for bit.
#include <catch2/catch.hpp>

#include "demos/cli/commands.h"

#include <cstdio>
#include <filesystem>

#include "nn/checkpoint.h"
#include "nn/safetensors.h"
#include "nn/trainer.h"

using namespace gs;
using namespace gs::nn;

namespace {
LMConfig tiny(const std::string& backbone = "transformer") {
  LMConfig c;
  c.backbone = parse_backbone(backbone);
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
  const std::string ck = tmp("gs_save_every_ck.safetensors");
  for (const char* every : {"0", "-5"})
    REQUIRE_THROWS_WITH(cli::run_train({"--steps", "2", "--save-every", every, "--checkpoint", ck}),
                        Catch::Matchers::Contains("option --save-every: must be >= 1"));
  REQUIRE_THROWS_WITH(cli::run_train({"--steps", "-1"}), Catch::Matchers::Contains("option --steps: must be >= 0"));
}

TEST_CASE("trainer: resume refuses a run that differs from the checkpoint's, unless allowed", "[nn][trainer]") {
  const std::string path = tmp("gs_trainer_run_change.safetensors");
  {
    Trainer t(make_language_model(tiny()), periodic(), cfg(12));
    struct Stop {};
    try {
      t.run([&](const StepInfo& s) {
        if (s.step == 4) t.save(path), throw Stop{};
      });
    } catch (const Stop&) {
    }
  }
  // another horizon: the cosine schedule would not be the 12-step run's
  {
    Trainer b(make_language_model(tiny()), periodic(), cfg(20));
    REQUIRE_THROWS_WITH(b.resume(path), Catch::Matchers::StartsWith(path + ": this run differs") &&
                                            Catch::Matchers::Contains("steps 12 in the checkpoint, 20 in this run") &&
                                            Catch::Matchers::EndsWith("set ResumePolicy::allow_run_changes"));
    REQUIRE(b.step() == 0);
  }
  // another learning rate and another text: both named, in one message
  {
    TrainConfig c = cfg(12);
    c.lr = 2e-2;
    std::vector<int64_t> t(600);
    for (int64_t i = 0; i < 600; ++i) t[i] = (i * 5) % 12;
    Trainer b(make_language_model(tiny()), TokenStream(t, 12), c);
    REQUIRE_THROWS_WITH(b.resume(path), Catch::Matchers::Contains("lr 0.01 in the checkpoint, 0.02") &&
                                            Catch::Matchers::Contains("data 600 tokens, vocab 12, fnv1a64 "));
  }
  // the same run resumes with nothing to report
  {
    Trainer b(make_language_model(tiny()), periodic(), cfg(12));
    REQUIRE(b.resume(path).empty());
    REQUIRE(b.step() == 4);
  }
  // allowed explicitly: resumed, and the differences are returned for the caller to print
  {
    Trainer b(make_language_model(tiny()), periodic(), cfg(20));
    Trainer::ResumePolicy allow;
    allow.allow_run_changes = true;
    const auto changes = b.resume(path, allow);
    REQUIRE(changes == std::vector<std::string>{"steps 12 in the checkpoint, 20 in this run"});
    REQUIRE(b.step() == 4);
    REQUIRE(b.run().size() == 16);
  }
  // a run shorter than the checkpoint's step cannot continue it
  {
    Trainer b(make_language_model(tiny()), periodic(), cfg(3));
    Trainer::ResumePolicy allow;
    allow.allow_run_changes = true;
    REQUIRE_THROWS_WITH(b.resume(path, allow), Catch::Matchers::Contains("at step 4, past this run's 3 steps"));
    REQUIRE(b.step() == 0);
  }
  std::remove(path.c_str());
}

TEST_CASE("trainer: a checkpoint without a run record resumes with a note, the record is exact", "[nn][trainer]") {
  const std::string path = tmp("gs_trainer_no_record.safetensors");
  Trainer(make_language_model(tiny()), periodic(), cfg(5)).save(path);
  // strip the record, as a checkpoint of an earlier version lacks it
  SafetensorsContents f = load_safetensors(path);
  for (auto it = f.metadata.begin(); it != f.metadata.end();)
    it = it->first.rfind("config.run.", 0) == 0 ? f.metadata.erase(it) : std::next(it);
  save_safetensors(path, f.tensors, f.metadata);
  Trainer b(make_language_model(tiny()), periodic(), cfg(5));
  const auto notes = b.resume(path);
  REQUIRE(notes.size() == 1);
  REQUIRE_THAT(notes[0], Catch::Matchers::Contains("records no run settings"));
  std::remove(path.c_str());

  // numbers are recorded round-trip exact, so a resume never refuses its own run on rounding
  TrainConfig r = cfg(5);
  r.lr = 0.1 + 0.2;
  const auto rec = run_record(r, periodic());
  REQUIRE(std::stod(rec.at("lr")) == r.lr);
  REQUIRE(rec.at("data") != run_record(r, periodic(599)).at("data"));
}

TEST_CASE("trainer: a checkpoint path that cannot be written is refused before the first step", "[nn][trainer]") {
  TrainConfig c = cfg(5);
  c.checkpoint_path = tmp("gs_no_such_folder_7c1e/ck.safetensors");
  REQUIRE_THROWS_WITH(Trainer(make_language_model(tiny()), periodic(), c),
                      Catch::Matchers::Contains("cannot be written: its folder") &&
                          Catch::Matchers::Contains("does not exist"));
  c.checkpoint_path = std::filesystem::temp_directory_path().string();  // a folder
  REQUIRE_THROWS_WITH(Trainer(make_language_model(tiny()), periodic(), c),
                      Catch::Matchers::Contains("exists and is not a regular file (a folder)"));
}
