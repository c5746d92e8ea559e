// SpamLang data, the SpamLang pattern at tiny scale (PAPER.md claim 3), and smoke tests of the
// spamlang / head-rank / equal-norm commands (files, JSON keys, values in range, bad arguments).
#include <catch2/catch.hpp>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "analysis/experiments.h"
#include "analysis/spamlang.h"
#include "demos/cli/commands.h"
#include "nn/trainer.h"
#include "tensor/ops.h"

namespace fs = std::filesystem;
using namespace gs;
using analysis::SpamLang;
using Catch::Matchers::Contains;

namespace {

nlohmann::json read_json(const fs::path& p) {
  nlohmann::json j;
  std::ifstream(p) >> j;
  return j;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / name;
  fs::remove_all(d);
  return d;
}

// A small text file (the commands' --text): 40 lines of varied ASCII.
std::string small_text() {
  const fs::path p = fs::temp_directory_path() / "gs_test_experiments_text.txt";
  std::ofstream out(p);
  for (int i = 0; i < 40; ++i) out << "line " << i << ": the quick brown fox jumps over the lazy dog " << i * 7 << "\n";
  return p.string();
}

bool finite_in(const nlohmann::json& v, double lo, double hi) {
  if (!v.is_number()) return false;
  const double x = v.get<double>();
  return std::isfinite(x) && x >= lo && x <= hi;
}

}  // namespace

TEST_CASE("spamlang data: each row repeats one symbol, targets equal inputs, seeded", "[experiments][spamlang]") {
  const SpamLang data(50, 6);
  Generator g(3);
  const nn::Batch b = data.sample(20, g);
  REQUIRE(b.inputs.shape() == Shape{20, 6});
  REQUIRE(b.targets.shape() == Shape{20, 6});
  const auto x = b.inputs.to_vector<int64_t>(), y = b.targets.to_vector<int64_t>();
  REQUIRE(x == y);  // the next token is the same symbol, at every position including the first
  const auto syms = SpamLang::symbols(b);
  REQUIRE(syms.size() == 20);
  for (int64_t r = 0; r < 20; ++r) {
    REQUIRE(syms[r] >= 0);
    REQUIRE(syms[r] < 50);
    for (int64_t t = 0; t < 6; ++t) REQUIRE(x[r * 6 + t] == syms[r]);
  }
  Generator g2(3), g3(4);
  REQUIRE(data.sample(20, g2).inputs.to_vector<int64_t>() == x);
  REQUIRE(data.sample(20, g3).inputs.to_vector<int64_t>() != x);  // 50^-20 chance of a clash
}

TEST_CASE("spamlang data: uniform and Zipf symbol frequencies", "[experiments][spamlang]") {
  const int64_t n = 20000;
  SECTION("uniform") {
    const SpamLang data(8, 1);
    Generator g(1);
    std::vector<int64_t> count(8, 0);
    for (int64_t i = 0; i < n; ++i) ++count[data.draw_symbol(g)];
    // expected 2500 each, binomial std ~ 47: +-250 is over 5 sigma
    for (int64_t c : count) REQUIRE(std::abs(c - n / 8) < 250);
    REQUIRE(data.probability(3) == Approx(1.0 / 8));
  }
  SECTION("zipf s = 1.5") {
    const SpamLang data(100, 1, 1.5);
    double total = 0;
    for (int64_t k = 0; k < 100; ++k) total += data.probability(k);
    REQUIRE(total == Approx(1.0).epsilon(1e-12));
    REQUIRE(data.probability(0) / data.probability(1) == Approx(std::pow(2.0, 1.5)).epsilon(1e-9));
    REQUIRE(data.probability(100) == 0);
    Generator g(2);
    int64_t zeros = 0;
    for (int64_t i = 0; i < n; ++i) zeros += data.draw_symbol(g) == 0;
    // P(0) ~ 0.39: binomial std ~ 0.0035 of the frequency; 0.02 is over 5 sigma
    REQUIRE(static_cast<double>(zeros) / n == Approx(data.probability(0)).margin(0.02));
  }
  REQUIRE_THROWS_WITH(SpamLang(0, 4), Contains("vocab must be >= 1"));
  REQUIRE_THROWS_WITH(SpamLang(8, 0), Contains("seq_len must be >= 1"));
  REQUIRE_THROWS_WITH(SpamLang(8, 4, -1), Contains("zipf exponent"));
}

TEST_CASE("spamlang accuracy: a model that copies its input scores 1, the control table learns", "[experiments][spamlang]") {
  // the direct logit table with its diagonal set is the exact copy model
  analysis::DirectLogitTable table(12);
  {
    std::vector<float> eye(144, 0.f);
    for (int i = 0; i < 12; ++i) eye[i * 13] = 5.f;
    op::copy_(table.table, from_vector(eye, {12, 12}));
  }
  const SpamLang data(12, 3);
  Generator g(0);
  const auto e = analysis::evaluate_spamlang(table, data, 40, g, 16);
  REQUIRE(e.accuracy == 1.0);
  REQUIRE(e.loss < 0.1);  // -log(e^5 / (e^5 + 11)) = 0.072
  // a fresh LM with a tiny random head is near chance (1/12): accuracy well below 1
  nn::LMConfig c;
  c.vocab = 12;
  c.d_model = 8;
  c.n_layer = 1;
  c.n_head = 2;
  c.context = 3;
  auto model = nn::make_language_model(c);
  Generator g2(0);
  REQUIRE(analysis::spamlang_accuracy(*model, data, 40, g2) < 0.6);
}

// The pattern of PAPER.md claim 3 at tiny scale, fixed seed. Budget: 60 steps x 32 sequences x 2
// tokens, AdamW lr 1e-2, 1-layer transformer. Over seeds 0..4 (measured with `gradscope spamlang
// --vocab 16,512 --dim 4,16 --steps 60 --batch 32 --seq-len 2 --heads 1 --seeds 5`):
//   V=16,  D=16 (V/D = 1):   accuracy 1.000 on every seed
//   V=512, D=4  (V/D = 128): accuracy 0.013 +- 0.009 (max 0.027)
//   direct logit table V=512 (control lr 0.1): accuracy 0.977 +- 0.011 (min 0.961; below 1 only
//                             because ~2% of the 512 symbols never appear in 60 x 32 training
//                             sequences), held-out loss 0.24 +- 0.06 (max 0.31)
// The thresholds (> 0.9, < 0.2, > 0.9, loss < 0.6) leave several times the seed-to-seed spread.
TEST_CASE("spamlang passes: every symbol once per pass, a new order each pass", "[experiments][spamlang]") {
  const analysis::SpamLang data(37, 3);
  analysis::SpamLangPasses passes(data);
  Generator g(4);
  std::vector<int64_t> order;
  for (int i = 0; i < 10; ++i) {  // 10 batches of 11 = 110 sequences: 2 whole passes + 36
    const nn::Batch b = passes.sample(11, g);
    CHECK(b.inputs.to_vector<int64_t>() == b.targets.to_vector<int64_t>());
    for (int64_t s : analysis::SpamLang::symbols(b)) order.push_back(s);
  }
  REQUIRE(order.size() == 110);
  CHECK(passes.sequences() == 110);
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<int64_t> p(order.begin() + pass * 37, order.begin() + (pass + 1) * 37);
    std::vector<int64_t> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t k = 0; k < 37; ++k) CHECK(sorted[k] == k);  // a permutation of 0..36
  }
  CHECK(!std::equal(order.begin(), order.begin() + 37, order.begin() + 37));  // reshuffled
  CHECK_THROWS_WITH(analysis::SpamLangPasses(analysis::SpamLang(37, 3, 1.1)), Catch::Contains("need uniform symbols"));
}

TEST_CASE("spamlang cover: more steps at large V, and no symbol unseen", "[experiments][spamlang]") {
  analysis::SpamLangConfig cfg;
  cfg.model.n_layer = 1;
  cfg.model.n_head = 1;
  cfg.steps = 3;
  cfg.batch = 16;
  cfg.seq_len = 2;
  cfg.eval_sequences = 16;
  cfg.vocabs = {8, 100};
  cfg.dims = {4};
  cfg.control = false;
  const auto iid = analysis::run_spamlang(cfg);  // 48 i.i.d. draws cannot cover V = 100
  REQUIRE(iid.runs.size() == 2);
  CHECK(iid.runs[1].steps == 3);
  CHECK(iid.runs[1].unseen_symbols >= 52);
  cfg.cover = 2;
  cfg.control = true;
  const auto cov = analysis::run_spamlang(cfg);
  REQUIRE(cov.runs.size() == 2);
  CHECK(cov.runs[0].steps == 3);    // 2 x 8 / 16 = 1 < 3
  CHECK(cov.runs[1].steps == 13);   // ceil(2 x 100 / 16)
  CHECK(cov.controls[1].steps == 13);
  for (const auto& r : cov.runs) CHECK(r.unseen_symbols == 0);
  CHECK(cov.runs[1].losses.size() == 13);
  cfg.zipf = 1.0;
  CHECK_THROWS_WITH(analysis::run_spamlang(cfg), Catch::Contains("cover needs uniform symbols"));
}

TEST_CASE("spamlang: small V with roomy D learns, large V/D does not, the full-rank control does",
          "[experiments][spamlang]") {
  analysis::SpamLangConfig cfg;
  cfg.model.n_layer = 1;
  cfg.model.n_head = 1;
  cfg.model.seed = 0;
  cfg.steps = 60;
  cfg.batch = 32;
  cfg.seq_len = 2;
  cfg.lr = 1e-2;
  cfg.eval_sequences = 256;
  cfg.vocabs = {16};
  cfg.dims = {16};
  cfg.control = false;
  const auto small = analysis::run_spamlang(cfg);
  cfg.vocabs = {512};
  cfg.dims = {4};
  cfg.control = true;
  const auto large = analysis::run_spamlang(cfg);
  REQUIRE(small.runs.size() == 1);
  REQUIRE(large.runs.size() == 1);
  REQUIRE(large.controls.size() == 1);
  CHECK(small.runs[0].accuracy > 0.9);
  CHECK(large.runs[0].accuracy < 0.2);
  CHECK(large.controls[0].accuracy > 0.9);
  CHECK(large.controls[0].final_loss < 0.6);  // the LM at V/D = 128 stays near 5.9
  // the destroyed fraction: none at V = D, nearly all at V/D = 128 (sqrt(1 - 4/512) ~ 0.996 for a
  // random gradient; measured 0.997)
  CHECK(small.runs[0].destroyed_fraction < 1e-3);
  CHECK(large.runs[0].destroyed_fraction > 0.95);
  REQUIRE(small.runs[0].losses.size() == 60);
  CHECK(small.runs[0].losses.back() < 0.5 * small.runs[0].losses.front());
}

TEST_CASE("spamlang command: files, JSON keys, values in range, every backbone", "[experiments][cli]") {
  const fs::path dir = fresh_dir("gs_test_spamlang");
  const fs::path json_path = fs::temp_directory_path() / "gs_test_spamlang.json";
  for (const std::string backbone : {"transformer", "gru", "ssm"}) {
    INFO(backbone);
    fs::remove_all(dir);
    REQUIRE(gs::cli::run_spamlang({"--vocab", "8,32", "--dim", "4,8", "--backbone", backbone, "--steps", "6", "--batch",
                                   "4", "--seq-len", "3", "--seeds", "2", "--eval-seqs", "8", "--json",
                                   json_path.string(), "--out", dir.string()}) == 0);
    for (const char* f : {"run.json", "runs.csv", "summary.csv", "control.csv", "loss_curves.csv",
                          "accuracy_heatmap.dat", "accuracy_heatmap.gp", "loss_curves.dat", "loss_curves.gp"})
      REQUIRE(fs::exists(dir / f));
    const auto j = read_json(json_path);
    REQUIRE(j.size() == 3);
    REQUIRE(j["runs"].size() == 2 * 2 * 2);
    for (const auto& r : j["runs"]) {
      // exactly vocab, dim, seed, steps, unseen_symbols, final_loss, accuracy, destroyed_fraction
      REQUIRE(r.size() == 8);
      REQUIRE(r["steps"] == 6);  // no --cover: --steps for every V
      REQUIRE(r["unseen_symbols"].get<int64_t>() >= 0);
      REQUIRE(r["unseen_symbols"].get<int64_t>() <= r["vocab"].get<int64_t>());
      REQUIRE((r["vocab"] == 8 || r["vocab"] == 32));
      REQUIRE((r["dim"] == 4 || r["dim"] == 8));
      REQUIRE((r["seed"] == 0 || r["seed"] == 1));
      REQUIRE(finite_in(r["final_loss"], 0, 20));
      REQUIRE(finite_in(r["accuracy"], 0, 1));
      REQUIRE(finite_in(r["destroyed_fraction"], 0, 1));
    }
    REQUIRE(j["control"].size() == 2 * 2);
    for (const auto& c : j["control"]) REQUIRE(finite_in(c["accuracy"], 0, 1));
    // the wide control: the same backbone at D >= V (V = 8 and 32, both under the default limit)
    REQUIRE(j["wide_control"].size() == 2 * 2);
    for (const auto& w : j["wide_control"]) {
      REQUIRE(w.size() == 8);
      REQUIRE(w["dim"].get<int64_t>() >= w["vocab"].get<int64_t>());
      REQUIRE(w["dim"].get<int64_t>() % (backbone == "transformer" ? 2 : 1) == 0);
      REQUIRE(finite_in(w["destroyed_fraction"], 0, 1e-2));  // a square head destroys nothing
    }
    // the logged numbers are the library's: the same grid through analysis::run_spamlang, with the
    // command's defaults spelled out (same seeds and thread count: the same arithmetic)
    analysis::SpamLangConfig cfg;
    cfg.vocabs = {8, 32};
    cfg.dims = {4, 8};
    cfg.model.backbone = nn::parse_backbone(backbone);
    cfg.model.n_layer = 1;
    cfg.model.n_head = 2;
    cfg.steps = 6;
    cfg.batch = 4;
    cfg.seq_len = 3;
    cfg.lr = 1e-2;
    cfg.warmup = 10;
    cfg.seeds = 2;
    cfg.eval_sequences = 8;
    cfg.control_lr = 0.1;
    const auto lib = analysis::run_spamlang(cfg);
    REQUIRE(lib.runs.size() == j["runs"].size());
    REQUIRE(lib.wide.size() == j["wide_control"].size());
    auto same_run = [](const nlohmann::json& logged, const analysis::SpamLangRun& r) {
      REQUIRE(logged["vocab"] == r.vocab);
      REQUIRE(logged["dim"] == r.dim);
      REQUIRE(logged["seed"] == r.seed);
      CHECK(logged["accuracy"].get<double>() == Approx(r.accuracy).epsilon(1e-9));
      CHECK(logged["final_loss"].get<double>() == Approx(r.final_loss).epsilon(1e-9));
      CHECK(logged["destroyed_fraction"].get<double>() == Approx(r.destroyed_fraction).epsilon(1e-9).margin(1e-12));
    };
    for (size_t i = 0; i < lib.runs.size(); ++i) same_run(j["runs"][i], lib.runs[i]);
    for (size_t i = 0; i < lib.wide.size(); ++i) same_run(j["wide_control"][i], lib.wide[i]);
    const auto run = read_json(dir / "run.json");
    for (const char* k : {"config", "runs", "control", "wide_control", "summary", "loss_curves"}) REQUIRE(run.contains(k));
    REQUIRE(run["runs"] == j["runs"]);
    REQUIRE(run["config"]["backbone"] == backbone);
    REQUIRE(run["summary"].size() == 4);
    REQUIRE(run["loss_curves"][0]["losses"].size() == 6);
  }
  fs::remove_all(dir);
  fs::remove(json_path);
}

TEST_CASE("head-rank: running mean and the token-efficiency bookkeeping", "[experiments][head-rank]") {
  const auto m = analysis::running_mean({4, 2, 6, 0, 2}, 2);
  REQUIRE(m == std::vector<double>{4, 3, 4, 3, 1});
  REQUIRE(analysis::running_mean({1, 2, 3}, 10) == std::vector<double>{1, 1.5, 2});
  REQUIRE_THROWS_WITH(analysis::running_mean({1}, 0), Contains("window must be >= 1"));
}

TEST_CASE("head-rank command: files, JSON keys, values in range (SpamLang and text)", "[experiments][cli][head-rank]") {
  const fs::path dir = fresh_dir("gs_test_head_rank");
  const std::string text = small_text();
  for (const std::string data : {"spamlang", "text"}) {
    INFO(data);
    fs::remove_all(dir);
    std::vector<std::string> args{"--ranks", "2,8", "--d-model", "8", "--layers", "1", "--heads", "2", "--steps",
                                  "10", "--batch", "4", "--seq-len", "6", "--backbone",
                                  data == "text" ? "gru" : "ssm", "--out", dir.string()};
    if (data == "text") args.insert(args.end(), {"--text", text});
    else args.insert(args.end(), {"--spamlang", "--vocab", "40"});
    REQUIRE(gs::cli::run_head_rank(args) == 0);
    for (const char* f : {"run.json", "loss_curves.csv", "token_efficiency.csv", "loss_curves.dat", "loss_curves.gp"})
      REQUIRE(fs::exists(dir / f));
    const auto j = read_json(dir / "run.json");
    for (const char* k : {"config", "tokens_per_step", "token_efficiency", "curves"}) REQUIRE(j.contains(k));
    REQUIRE(j["tokens_per_step"] == 24);
    const auto& te = j["token_efficiency"];
    for (const char* k : {"lowest_rank", "highest_rank", "target_loss", "tokens_lowest", "tokens_highest", "ratio",
                          "speedup"})
      REQUIRE(te.contains(k));
    REQUIRE(te["lowest_rank"] == 2);
    REQUIRE(te["highest_rank"] == 8);
    REQUIRE(te["tokens_lowest"] == 240);
    // the ratio is null when the highest rank never reaches the target, else in (0, 1]
    if (!te["ratio"].is_null()) {
      REQUIRE(finite_in(te["ratio"], 1e-9, 1.0));
      REQUIRE(te["speedup"].get<double>() == Approx(1.0 / te["ratio"].get<double>()));
    }
    REQUIRE(j["curves"].size() == 2);
    for (const auto& c : j["curves"]) {
      REQUIRE(c["losses"].size() == 10);
      REQUIRE(c["smoothed"].size() == 10);
      REQUIRE(finite_in(c["final_loss"], 0, 20));
      REQUIRE(finite_in(c["destroyed_fraction"], 0, 1));
    }
    // the lowest rank reaches its own final loss by the end at the latest
    REQUIRE(finite_in(j["curves"][0]["tokens_to_target"], 24, 240));
  }
  fs::remove_all(dir);
}

TEST_CASE("equal-norm: the direct logit step lowers the loss more than the network step of the same norm",
          "[experiments][equal-norm]") {
  nn::LMConfig c;
  c.vocab = 30;
  c.d_model = 8;
  c.n_layer = 1;
  c.n_head = 2;
  c.context = 6;
  c.dtype = kFloat64;
  c.seed = 4;
  auto model = nn::make_language_model(c);
  const SpamLang data(30, 6);
  Generator g(1);
  const nn::Batch b = data.sample(4, g);
  const auto before = model->named_parameters().front().second.to_vector<double>();
  analysis::EqualNormConfig ecfg;
  ecfg.eps = {1e-3, 1e-1, 10};
  const auto r = analysis::run_equal_norm(*model, b, ecfg);
  REQUIRE(model->named_parameters().front().second.to_vector<double>() == before);  // restored exactly
  REQUIRE(r.tokens == 24);
  REQUIRE(r.vocab == 30);
  REQUIRE(r.grad_norm > 0);
  REQUIRE(r.cosine > 0);  // an SGD step lowers the loss to first order
  REQUIRE(r.cosine < 1);
  REQUIRE(r.points.size() == 3);
  for (const auto& p : r.points) {
    REQUIRE(p.decrease_direct > 0);
    REQUIRE(p.ratio > 1);
  }
  // first order: at the smallest eps the ratio is 1 / cos(dZ, -G) (O(eps) relative correction)
  REQUIRE(r.points[0].ratio == Approx(1.0 / r.cosine).epsilon(0.02));
  REQUIRE_THROWS_WITH(analysis::run_equal_norm(*model, b, {{}, 1e-3}), Contains("the eps list is empty"));
  REQUIRE_THROWS_WITH(analysis::run_equal_norm(*model, b, {{-1.0}, 1e-3}), Contains("every eps must be finite and > 0"));
}

TEST_CASE("equal-norm command: from a checkpoint and from a fresh short run", "[experiments][cli][equal-norm]") {
  const fs::path dir = fresh_dir("gs_test_equal_norm");
  const std::string text = small_text();
  const std::string ck = (fs::temp_directory_path() / "gs_test_equal_norm.safetensors").string();
  {
    nn::LMConfig c;
    c.backbone = nn::BackboneKind::gru;
    c.vocab = 256;
    c.d_model = 8;
    c.n_layer = 1;
    c.context = 8;
    nn::TrainConfig tc;
    tc.steps = 5;
    tc.batch = 2;
    tc.seq_len = 8;
    tc.progress = false;
    tc.checkpoint_path = ck;
    const std::string body = gs::nn::load_text_file(text);
    nn::ByteTokenizer tok;
    nn::Trainer t(nn::make_language_model(c), nn::TokenStream(tok.encode(body)), tc);
    t.run();
  }
  const std::vector<std::vector<std::string>> variants{
      {"--checkpoint", ck, "--text", text, "--seq-len", "8", "--batch", "3"},
      {"--text", text, "--train-steps", "5", "--d-model", "8", "--layers", "1", "--heads", "2", "--seq-len", "8",
       "--batch", "2", "--backbone", "ssm"}};
  for (auto args : variants) {
    fs::remove_all(dir);
    args.insert(args.end(), {"--eps", "1e-3,1e-1,10", "--out", dir.string()});
    REQUIRE(gs::cli::run_equal_norm(args) == 0);
    for (const char* f : {"run.json", "equal_norm.csv", "decrease.dat", "decrease.gp", "ratio.dat", "ratio.gp"})
      REQUIRE(fs::exists(dir / f));
    const auto j = read_json(dir / "run.json");
    for (const char* k : {"config", "tokens", "loss", "grad_norm", "dz_norm", "dz_backbone_norm", "cosine",
                          "cosine_backbone", "first_order_ratio", "points"})
      REQUIRE(j.contains(k));
    REQUIRE(j["config"]["dtype"] == "float64");
    REQUIRE(finite_in(j["cosine"], 0, 1));
    REQUIRE(j["points"].size() == 3);
    for (const auto& p : j["points"]) {
      REQUIRE(finite_in(p["decrease_direct"], 0, 20));
      REQUIRE(finite_in(p["ratio"], 1, 1e12));  // the direct step lowers the loss more
    }
  }
  fs::remove_all(dir);
  fs::remove(ck);
}

TEST_CASE("experiment commands: bad arguments give a clear message", "[experiments][cli]") {
  using gs::cli::run_equal_norm;
  using gs::cli::run_head_rank;
  using gs::cli::run_spamlang;
  REQUIRE_THROWS_WITH(run_spamlang({"--backbone", "lstm"}), Contains("unknown backbone 'lstm'"));
  REQUIRE_THROWS_WITH(run_spamlang({"--vocab", ""}), Contains("--vocab: the list is empty"));
  REQUIRE_THROWS_WITH(run_spamlang({"--vocab", "64,,128"}), Contains("--vocab: empty item"));
  REQUIRE_THROWS_WITH(run_spamlang({"--dim", "8,x"}), Contains("--dim: 'x' is not an integer"));
  REQUIRE_THROWS_WITH(run_spamlang({"--steps", "ten"}), Contains("--steps: 'ten' is not an integer"));
  REQUIRE_THROWS_WITH(run_spamlang({"--lr", "-1"}), Contains("lr must be finite and > 0"));
  REQUIRE_THROWS_WITH(run_spamlang({"--vocab", "1"}), Contains("every vocabulary size must be >= 2"));
  REQUIRE_THROWS_WITH(run_spamlang({"--dim", "6", "--heads", "4"}), Contains("do not divide D = 6"));
  REQUIRE_THROWS_WITH(run_spamlang({"--zipf", "-2"}), Contains("zipf exponent"));
  REQUIRE_THROWS_WITH(run_head_rank({"--ranks", "4,128", "--d-model", "64"}), Contains("rank 128 exceeds the hidden width D = 64"));
  REQUIRE_THROWS_WITH(run_head_rank({"--ranks", ""}), Contains("--ranks: the list is empty"));
  REQUIRE_THROWS_WITH(run_head_rank({"--backbone", "rnn"}), Contains("unknown backbone 'rnn'"));
  REQUIRE_THROWS_WITH(run_head_rank({"--spamlang", "--text", "x.txt"}), Contains("exclude each other"));
  REQUIRE_THROWS_WITH(run_equal_norm({"--eps", "0"}), Contains("every eps must be finite and > 0"));
  REQUIRE_THROWS_WITH(run_equal_norm({"--checkpoint", "/nonexistent/ck.safetensors"}), Contains("/nonexistent/ck.safetensors"));
  REQUIRE_THROWS_WITH(run_equal_norm({"--backbone", "lstm"}), Contains("unknown backbone 'lstm'"));
}

TEST_CASE("experiment commands: the gradscope binary exits with code 2 on bad arguments", "[experiments][cli]") {
  // the binary sits next to the tests folder of the build tree: <build>/gradscope, <build>/tests/gs_tests
  const fs::path exe = fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "gradscope";
  if (!fs::exists(exe)) {
    WARN("no gradscope binary at " << exe << "; exit-code check skipped");
    return;
  }
  const fs::path err = fs::temp_directory_path() / "gs_test_experiments_stderr.txt";
  const fs::path out = fresh_dir("gs_test_experiments_no_output");
  for (const std::string args : {"spamlang --backbone lstm", "spamlang --vocab ''", "head-rank --ranks 4,128 --d-model 64",
                                 "equal-norm --eps abc", "bottleneck --backbone lstm", "bottleneck --head factorized --rank 64",
                                 "bottleneck --every 0", "backbones --backbones gru,lstm", "backbones --backbones ''",
                                 "backbones --seeds 0"}) {
    INFO(args);
    const int status = std::system((exe.string() + " " + args + " --out " + out.string() + " 2>" + err.string()).c_str());
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 2);
    REQUIRE_FALSE(fs::exists(out));  // no partial output: every check runs before the folder is made
    std::ifstream in(err);
    const std::string msg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(msg.rfind("gradscope " + args.substr(0, args.find(' ')) + ": ", 0) == 0);  // "gradscope <cmd>: <msg>"
  }
  fs::remove(err);
}
