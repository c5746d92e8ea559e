// gradscope analyze (demos/cli/cmd_analyze.cpp), run in-process through gs_cli and once as the
// built binary: the JSON has exactly the documented keys (analysis/head_bottleneck.h to_json) with values that match
// head_metrics computed directly; every bad input gives one message naming the file and the
// problem, exit code 2 and no JSON file; the checkpoint mode on a briefly trained model prints the
// node trace and a leak test whose destroyed part is at rounding level.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "analysis/head_bottleneck.h"
#include "autograd/ops.h"
#include "demos/cli/commands.h"
#include "nn/checkpoint.h"
#include "nn/data.h"
#include "nn/lm.h"
#include "nn/npy.h"
#include "nn/trainer.h"
#include "tensor/ops.h"
#include "tests/temp_dir.h"

using namespace gs;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs `gradscope analyze args` in-process with stdout captured; `error` is the message of what
// it threw (what main() prints after "gradscope analyze: " before exiting with code 2).
struct Run {
  int rc = -1;
  std::string out, error;
};
Run analyze(const std::vector<std::string>& args) {
  Run r;
  char path[] = "/tmp/gs_analyze_stdout_XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  std::fflush(stdout);
  const int saved = ::dup(1);
  ::dup2(fd, 1);
  try {
    r.rc = cli::run_analyze(args);
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  std::fflush(stdout);
  ::dup2(saved, 1);
  ::close(saved);
  ::close(fd);
  r.out = read_text(path);
  ::unlink(path);
  return r;
}

const std::set<std::string> kTop = {"tokens", "vocab", "dim", "loss", "logit_grad_norm", "visible_norm",
                                    "destroyed_fraction", "visible_cosine", "metric",
                                    "column_space_destroyed_fraction", "per_token_destroyed", "update",
                                    "spectrum"};
std::set<std::string> keys(const json& j) {
  std::set<std::string> out;
  for (const auto& [k, _] : j.items()) out.insert(k);
  return out;
}
void check_head_keys(const json& j, const std::set<std::string>& extra = {}) {
  std::set<std::string> top = kTop;
  top.insert(extra.begin(), extra.end());
  CHECK(keys(j) == top);
  CHECK(keys(j["per_token_destroyed"]) == std::set<std::string>{"mean", "p5", "p50", "p95"});
  CHECK(keys(j["update"]) == std::set<std::string>{"cosine", "backbone_term_norm", "head_term_norm", "rank_bound"});
  CHECK(keys(j["spectrum"]) == std::set<std::string>{"topk", "singular_values", "components_for_70",
                                                     "components_for_90", "components_for_99", "components_for_999",
                                                     "eym_bound_2d", "exact", "residual", "value_error"});
}
// Every number finite (null would mean NaN/Inf) and each quantity in its range.
void check_head_values(const json& j) {
  for (const char* k : {"loss", "logit_grad_norm", "visible_norm", "destroyed_fraction", "visible_cosine"}) {
    INFO(k);
    REQUIRE(j[k].is_number());
    CHECK(std::isfinite(j[k].get<double>()));
  }
  CHECK(j["loss"].get<double>() > 0);
  CHECK(j["logit_grad_norm"].get<double>() > 0);
  const double d = j["destroyed_fraction"].get<double>(), c = j["visible_cosine"].get<double>();
  CHECK(d >= 0);
  CHECK(d <= 1);
  CHECK(c >= 0);
  CHECK(c <= 1);
  CHECK(d * d + c * c == Approx(1).margin(1e-9));  // ||G||^2 = visible^2 + destroyed^2
  CHECK(j["visible_norm"].get<double>() == Approx(c * j["logit_grad_norm"].get<double>()).epsilon(1e-9));
  const json& p = j["per_token_destroyed"];
  for (const char* k : {"mean", "p5", "p50", "p95"}) {
    INFO(k);
    REQUIRE(p[k].is_number());
    CHECK(p[k].get<double>() >= 0);
    CHECK(p[k].get<double>() <= 1);
  }
  CHECK(p["p5"].get<double>() <= p["p50"].get<double>());
  CHECK(p["p50"].get<double>() <= p["p95"].get<double>());
  const json& u = j["update"];
  REQUIRE(u["cosine"].is_number());
  CHECK(std::abs(u["cosine"].get<double>()) <= 1 + 1e-12);
  CHECK(u["backbone_term_norm"].get<double>() >= 0);
  CHECK(u["head_term_norm"].get<double>() >= 0);
  CHECK(u["rank_bound"].get<int64_t>() == 2 * j["dim"].get<int64_t>());
  const json& s = j["spectrum"];
  const auto sv = s["singular_values"].get<std::vector<double>>();
  CHECK(static_cast<int64_t>(sv.size()) == s["topk"].get<int64_t>());
  for (size_t i = 1; i < sv.size(); ++i) CHECK(sv[i] <= sv[i - 1] * (1 + 1e-9));
}

// Random H [N, D], W [V, D] (N > V > D) and targets with some ignored rows, saved as .npy.
struct Files {
  std::string H, W, y;
  Tensor h, w, t;
};
Files write_inputs(const testing::TempDir& tmp, DType dtype, int64_t N = 50, int64_t V = 30, int64_t D = 6) {
  Generator g(17);
  Files f{tmp / "H.npy", tmp / "W.npy", tmp / "y.npy", randn({N, D}, g, dtype), randn({V, D}, g, dtype),
          randint({N}, V, g)};
  auto* t = f.t.data<int64_t>();
  t[3] = t[10] = t[41] = -100;
  nn::save_npy(f.H, f.h);
  nn::save_npy(f.W, f.w);
  nn::save_npy(f.y, f.t);
  return f;
}

}  // namespace

TEST_CASE("analyze: .npy inputs -> JSON with exactly the issue's keys, matching head_metrics", "[cli][analyze]") {
  for (DType dtype : {kFloat64, kFloat32}) {
    INFO(dtype_name(dtype));
    testing::TempDir tmp("gs_analyze_test_");
    const Files f = write_inputs(tmp, dtype);
    const std::string out = tmp / "out.json";
    const Run r = analyze({"--head", f.W, "--hidden", f.H, "--targets", f.y, "--chunk", "7", "--topk", "12",
                           "--json", out});
    INFO(r.error);
    REQUIRE(r.rc == 0);
    CHECK_THAT(r.out, Contains("destroyed fraction"));
    CHECK_THAT(r.out, Contains("json: " + out));
    const json j = json::parse(read_text(out));
    check_head_keys(j);
    check_head_values(j);
    CHECK(j["tokens"] == 47);  // 50 rows, 3 ignored
    CHECK(j["vocab"] == 30);
    CHECK(j["dim"] == 6);
    CHECK(j["spectrum"]["topk"] == 12);
    // the same computation done directly: the CLI adds nothing but I/O (JSON doubles round-trip)
    analysis::HeadMetricsOptions opts;
    opts.chunk = 7;
    opts.topk = 12;
    const auto m = analysis::head_metrics(f.h, f.w, f.t, opts);
    CHECK(j["destroyed_fraction"].get<double>() == m.destroyed_fraction);
    CHECK(j["loss"].get<double>() == m.loss);
    CHECK(j["update"]["cosine"].get<double>() == m.update.cosine);
    CHECK(j["spectrum"]["singular_values"].get<std::vector<double>>() == m.spectrum.singular_values);
    // V = 30 > D = 6 with random W: a substantial part of G is destroyed
    CHECK(m.destroyed_fraction > 0.3);
  }
}

TEST_CASE("analyze: default topk is 2D (the Eckart-Young bound is defined), mixed dtypes run in float64",
          "[cli][analyze]") {
  testing::TempDir tmp("gs_analyze_test_");
  Files f = write_inputs(tmp, kFloat64);
  nn::save_npy(f.W, op::to(f.w, kFloat32));
  const std::string out = tmp / "out.json";
  const Run r = analyze({"--head", f.W, "--hidden", f.H, "--targets", f.y, "--json", out});
  INFO(r.error);
  REQUIRE(r.rc == 0);
  const json j = json::parse(read_text(out));
  CHECK(j["spectrum"]["topk"] == 12);
  REQUIRE(j["spectrum"]["eym_bound_2d"].is_number());
  CHECK(j["spectrum"]["eym_bound_2d"].get<double>() >= 0);
  CHECK(j["spectrum"]["eym_bound_2d"].get<double>() < 1);
  // W was stored as float32: the run used W rounded to float32, promoted to float64
  const auto m = analysis::head_metrics(f.h, op::to(op::to(f.w, kFloat32), kFloat64), f.t);
  CHECK(j["destroyed_fraction"].get<double>() == Approx(m.destroyed_fraction).epsilon(1e-12));
}

TEST_CASE("analyze: each bad input -> one message naming the file and the problem, and no JSON", "[cli][analyze]") {
  testing::TempDir tmp("gs_analyze_test_");
  const Files f = write_inputs(tmp, kFloat32);
  const std::string out = tmp / "out.json";
  Generator g(3);
  struct Case {
    std::string what;
    std::function<void()> make;  // breaks one input (or none)
    std::vector<std::string> args;
    std::string starts, contains;
  };
  auto std_args = [&](const std::string& H, const std::string& W, const std::string& y) {
    return std::vector<std::string>{"--head", W, "--hidden", H, "--targets", y, "--json", out};
  };
  const std::string bad = tmp / "bad.npy";
  std::vector<Case> cases = {
      {"H with the wrong D", [&] { nn::save_npy(bad, randn({50, 7}, g)); }, std_args(bad, f.W, f.y), bad,
       "hidden states H [50, 7] and head matrix W [30, 6] in " + f.W + " disagree on D"},
      {"targets of the wrong length", [&] { nn::save_npy(bad, randint({49}, 30, g)); }, std_args(f.H, f.W, bad), bad,
       "targets [49] do not match hidden states H [50, 6]"},
      {"target == V", [&] { auto t = op::clone(f.t); t.data<int64_t>()[5] = 30; nn::save_npy(bad, t); },
       std_args(f.H, f.W, bad), bad, "target 30 at index 5 is outside [0, V) for V = 30"},
      {"negative target other than -100",
       [&] { auto t = op::clone(f.t); t.data<int64_t>()[8] = -1; t.data<int64_t>()[9] = -7; nn::save_npy(bad, t); },
       std_args(f.H, f.W, bad), bad, "target -1 at index 8 is outside [0, V) for V = 30 (W [30, 6] in " + f.W +
                                         ") and is not the ignore index -100 (2 bad targets in all)"},
      {"all targets ignored", [&] { nn::save_npy(bad, full({50}, -100, kInt64)); }, std_args(f.H, f.W, bad), bad,
       "no valid targets: all 50 are the ignore index -100"},
      {"float targets", [&] { nn::save_npy(bad, zeros({50})); }, std_args(f.H, f.W, bad), bad,
       "targets must be integers (int32 or int64), got float32"},
      {"NaN in H", [&] { auto h = op::clone(f.h); h.data<float>()[2 * 6 + 1] = NAN; nn::save_npy(bad, h); },
       std_args(bad, f.W, f.y), bad, "hidden states H [50, 6] has NaN at [2, 1] (1 non-finite value in all)"},
      {"Inf in W",
       [&] { auto w = op::clone(f.w); w.data<float>()[29 * 6 + 5] = -INFINITY; w.data<float>()[0] = INFINITY;
             nn::save_npy(bad, w); },
       std_args(f.H, bad, f.y), bad, "head matrix W [30, 6] has Inf at [0, 0] (2 non-finite values in all)"},
      {"1-d H", [&] { nn::save_npy(bad, randn({300}, g)); }, std_args(bad, f.W, f.y), bad,
       "hidden states H must be 2-d [N, D], got shape [300]"},
      {"truncated H",
       [&] { const std::string b = read_text(f.H); std::ofstream(bad, std::ios::binary) << b.substr(0, b.size() - 9); },
       std_args(bad, f.W, f.y), bad, "truncated: the data section holds 1191 bytes, but shape [50, 6] of '<f4' needs 1200"},
      {"corrupt W (not a .npy file)", [&] { std::ofstream(bad) << "W,as,csv\n1,2,3\n"; }, std_args(f.H, bad, f.y), bad,
       "not a .npy file (bad magic"},
      {"corrupt header",
       [&] { std::string b = read_text(f.W); b.replace(b.find("'shape'"), 7, "'shapf'"); std::ofstream(bad, std::ios::binary) << b; },
       std_args(f.H, bad, f.y), bad, "bad .npy header: unexpected key 'shapf'"},
      {"Fortran-order W",
       [&] { std::string b = read_text(f.W); b.replace(b.find("False"), 5, "True "); std::ofstream(bad, std::ios::binary) << b; },
       std_args(f.H, bad, f.y), bad, "Fortran (column-major) order"},
      {"unreadable path", [] {}, std_args(tmp / "nope.npy", f.W, f.y), tmp / "nope.npy",
       "cannot open: No such file or directory"},
      {"a folder as H", [] {}, std_args(tmp.dir.string(), f.W, f.y), tmp.dir.string(), "is a folder"},
      {"JSON into a missing folder", [] {}, {"--head", f.W, "--hidden", f.H, "--targets", f.y, "--json", tmp / "x/o.json"},
       "--json: " + (tmp / "x/o.json"), "does not exist"},
      {"a missing --targets", [] {}, {"--head", f.W, "--hidden", f.H, "--json", out}, "--targets is missing", ""},
      {"both modes", [] {}, {"--head", f.W, "--checkpoint", f.H, "--json", out}, "give either", ""},
      {"bad --topk", [] {}, {"--head", f.W, "--hidden", f.H, "--targets", f.y, "--topk", "-3", "--json", out},
       "--topk: must be >= 0", ""},
      // it used to be capped without a word
      {"--topk beyond min(N, V)", [] {}, {"--head", f.W, "--hidden", f.H, "--targets", f.y, "--topk", "1000000", "--json", out},
       "--topk: 1000000 exceeds min(N, V)", ""},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::error_code ec;
    fs::remove(bad, ec);
    c.make();
    const Run r = analyze(c.args);
    CHECK(r.rc == -1);  // threw
    CHECK_THAT(r.error, StartsWith(c.starts));
    CHECK_THAT(r.error, Contains(c.contains));
    CHECK(r.error.find('\n') == std::string::npos);  // one message, one line
    CHECK_FALSE(fs::exists(out));
    CHECK_FALSE(fs::exists(out + ".tmp"));
  }
}

TEST_CASE("analyze: the gradscope binary exits with 2 and no JSON on bad input, 0 with the table otherwise",
          "[cli][analyze]") {
  // The test binary lives in <build>/tests/, the CLI in <build>/ (both built by `ninja`).
  const fs::path exe = fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "gradscope";
  INFO("expects the gradscope binary at " << exe.string() << " (build all targets)");
  REQUIRE(fs::exists(exe));
  testing::TempDir tmp("gs_analyze_test_");
  const Files f = write_inputs(tmp, kFloat64);
  const std::string out = tmp / "out.json", log = tmp / "log.txt";
  auto run = [&](const std::string& args) {
    const std::string cmd = exe.string() + " analyze " + args + " > " + log + " 2>&1";
    const int st = std::system(cmd.c_str());
    REQUIRE(WIFEXITED(st));
    return WEXITSTATUS(st);
  };
  const std::string missing = tmp / "missing.npy";
  CHECK(run("--head " + f.W + " --hidden " + missing + " --targets " + f.y + " --json " + out) == 2);
  CHECK(read_text(log) == "gradscope analyze: " + missing + ": cannot open: No such file or directory\n");
  CHECK_FALSE(fs::exists(out));
  CHECK(run("--head " + f.W + " --hidden " + f.H + " --targets " + f.y + " --json " + out) == 0);
  CHECK_THAT(read_text(log), Contains("destroyed fraction"));
  REQUIRE(fs::exists(out));
  check_head_keys(json::parse(read_text(out)));
}

TEST_CASE("analyze --checkpoint: trained model, node trace and leak test", "[cli][analyze]") {
  testing::TempDir tmp("gs_analyze_test_");
  const std::string text_path = tmp / "text.txt";
  {
    std::string text;
    for (int i = 0; i < 40; ++i)
      text += "the quick brown fox jumps over the lazy dog " + std::to_string(i * 7919 % 1000) + ". ";
    std::ofstream(text_path) << text;
  }
  for (const auto& [backbone, head, rank] : std::vector<std::tuple<std::string, std::string, int64_t>>{
           {"transformer", "full", 0}, {"gru", "factorized", 4}}) {
    INFO(backbone << " backbone, " << head << " head");
    nn::LMConfig cfg;
    cfg.backbone = nn::parse_backbone(backbone);
    cfg.head = nn::parse_head(head);
    cfg.rank = rank;
    cfg.vocab = 256;
    cfg.d_model = 16;
    cfg.n_layer = 1;
    cfg.n_head = 2;
    cfg.context = 16;
    cfg.seed = 1;
    const std::string ck = tmp / (backbone + ".safetensors");
    {
      nn::ByteTokenizer tok;
      nn::TrainConfig tc;
      tc.steps = 4;
      tc.warmup = 1;
      tc.batch = 4;
      tc.seq_len = 16;
      tc.progress = false;
      tc.checkpoint_path = ck;
      nn::Trainer trainer(nn::make_language_model(cfg), nn::TokenStream(tok.encode(read_text(text_path))), tc);
      trainer.run();
    }
    const std::string out = tmp / "out.json";
    const Run r = analyze({"--checkpoint", ck, "--text", text_path, "--batch", "4", "--seq-len", "16", "--json", out});
    INFO(r.error);
    REQUIRE(r.rc == 0);
    CHECK_THAT(r.out, Contains("backward trace"));
    CHECK_THAT(r.out, Contains("leak test"));
    CHECK_THAT(r.out, Contains("head.logits"));
    const json j = json::parse(read_text(out));
    check_head_keys(j, {"trace", "leak"});
    check_head_values(j);
    CHECK(j["tokens"] == 64);
    CHECK(j["vocab"] == 256);
    CHECK(j["dim"] == (head == "full" ? 16 : 4));  // the head matrix's k

    REQUIRE(j["trace"].size() > 5);
    std::set<std::string> names, ids;
    for (const json& row : j["trace"]) {
      CHECK(keys(row) == std::set<std::string>{"id", "name", "op", "shape", "grad_norm", "relative"});
      REQUIRE(row["grad_norm"].is_number());
      names.insert(row["name"].get<std::string>());
      CHECK(ids.insert(row["id"].get<std::string>()).second);  // unique, where names repeat
      if (row["name"] == "head.logits") CHECK(row["relative"].get<double>() == Approx(1).epsilon(1e-6));
    }
    CHECK(names.count("backbone.wte.weight"));
    CHECK(names.count("loss"));
    CHECK(names.size() < ids.size());  // some names repeat (attention's permutes, a GRU's per-step ops)
    CHECK(keys(j["leak"]) == std::set<std::string>{"destroyed_max", "visible_max_diff"});
    // float32 model: the destroyed part reaches the backbone only through rounding of G Q Q^T
    // (~1e-7 relative); the float32 bound 1e-4 sits three orders above that, so only a real leak
    // fails it. The visible part reproduces the full backward to the same rounding level,
    // amplified at most by a few layers (1e-3 is loose).
    CHECK(j["leak"]["destroyed_max"].get<double>() < 1e-4);
    CHECK(j["leak"]["visible_max_diff"].get<double>() < 1e-3);

    // destroyed_fraction matches head_metrics on the same batch, computed directly
    const nn::Checkpoint c = nn::load_checkpoint(ck);
    auto model = nn::make_language_model(nn::LMConfig::from_map(c.config, false));
    nn::load_model_state(c, *model);
    model->eval();
    nn::ByteTokenizer tok;
    const nn::TokenStream data(tok.encode(read_text(text_path)));
    Generator gen(0);  // --seed 0
    const nn::Batch b = data.sample(4, 16, gen);
    NoGradGuard ng;
    const Tensor H = model->head()->head_input(model->hidden(b.inputs));
    const auto m = analysis::head_metrics(H, model->head()->head_matrix(), op::reshape(b.targets, {64}));
    // the CLI takes G from the model's float32 backward, head_metrics recomputes it in its own
    // float32 chunks: both round differently at ~1e-7 relative per entry
    CHECK(j["destroyed_fraction"].get<double>() == Approx(m.destroyed_fraction).epsilon(1e-5));
    CHECK(j["loss"].get<double>() == Approx(m.loss).epsilon(1e-5));
  }

  {  // bad checkpoint inputs name the file, and write no JSON
    const std::string out = tmp / "bad.json";
    const std::string missing = tmp / "none.safetensors";
    Run r = analyze({"--checkpoint", missing, "--text", text_path, "--json", out});
    CHECK_THAT(r.error, StartsWith(missing + ": "));
    const std::string ck = tmp / "transformer.safetensors";
    const std::string short_text = tmp / "short.txt";
    std::ofstream(short_text) << "tiny";
    r = analyze({"--checkpoint", ck, "--text", short_text, "--seq-len", "8", "--json", out});
    CHECK(r.error == short_text + ": has 4 tokens; --seq-len 8 needs at least 9");
    r = analyze({"--checkpoint", ck, "--text", text_path, "--seq-len", "32", "--json", out});
    CHECK_THAT(r.error, StartsWith("--seq-len: 32 exceeds the model's context 16"));
    const std::string corrupt = tmp / "corrupt.safetensors";
    {
      const std::string b = read_text(ck);
      std::ofstream(corrupt, std::ios::binary) << b.substr(0, b.size() / 2);
    }
    r = analyze({"--checkpoint", corrupt, "--text", text_path, "--json", out});
    CHECK_THAT(r.error, StartsWith(corrupt + ": "));
    CHECK_FALSE(fs::exists(out));
  }
}
