// The CLI with --device cuda: `analyze --checkpoint` and `bottleneck` on the
// device against the CPU's output, and (everywhere, device or not) --device checked before any
// work: a clear message, exit code 2, no output file or folder. Skips and tolerances as in
// test_cuda_parity.cpp (helpers: cuda_test_helpers.h).
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cuda_test_helpers.h"
#include "demos/cli/commands.h"
#include "nn/checkpoint.h"
#include "nn/lm.h"
#include "tensor/ops.h"

using namespace gs;
using namespace gs::testing;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

TEST_CASE("cuda parity: analyze --checkpoint --device cuda writes the CPU's JSON (metrics, trace, leak)", "[cuda][cli]") {
  if (!cuda_or_skip()) return;
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "gs_cuda_checkpoint_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string text = (dir / "text.txt").string();
  {
    std::ofstream out(text);
    for (int i = 0; i < 40; ++i) out << "the quick brown fox jumps over the lazy dog " << i * 7919 % 1000 << ". ";
  }
  for (const std::string backbone : {"transformer", "ssm"}) {
    INFO(backbone << " backbone");
    nn::LMConfig cfg = tiny_config(backbone);
    cfg.vocab = 256;  // bytes of the text
    cfg.context = 16;
    const std::string ck = (dir / (backbone + ".safetensors")).string();
    nn::save_checkpoint(ck, *nn::make_language_model(cfg), nn::NamedTensors{}, 0, Generator(0), cfg.to_map());
    auto analyze = [&](const std::string& device) {
      const std::string out = (dir / (backbone + "_" + device + ".json")).string();
      REQUIRE(cli::run_analyze({"--checkpoint", ck, "--text", text, "--batch", "4", "--seq-len", "16", "--device",
                                device, "--json", out}) == 0);
      std::ifstream in(out);
      return nlohmann::json::parse(in);
    };
    const nlohmann::json c = analyze("cpu"), g = analyze("cuda");
    // The leak numbers are rounding noise on both sides (test_cli_analyze.cpp bounds them).
    CHECK(g["leak"]["destroyed_max"].get<double>() < 1e-4);
    CHECK(g["leak"]["visible_max_diff"].get<double>() < 1e-3);
    // Everything else: the same keys, strings and integers, and floats within 1e-4 relative
    // (the float32 model's gradients, as in check_model_parity) with a floor of 1e-5 of the
    // largest trace norm for nodes whose gradient is rounding noise (attention's k bias).
    std::map<std::string, double> trace_scale;  // per field: the largest value over the trace
    for (const auto& row : c["trace"])
      for (const char* key : {"grad_norm", "relative"})
        if (row[key].is_number()) trace_scale[key] = std::max(trace_scale[key], row[key].get<double>());
    REQUIRE(trace_scale["grad_norm"] > 0);
    REQUIRE(trace_scale["relative"] > 0);
    std::function<void(const nlohmann::json&, const nlohmann::json&, const std::string&)> same =
        [&](const nlohmann::json& a, const nlohmann::json& b, const std::string& path) {
          INFO("at " << path);
          if (path == ".leak") return;
          REQUIRE(a.type_name() == std::string(b.type_name()));
          if (b.is_object()) {
            REQUIRE(a.size() == b.size());
            for (auto it = b.begin(); it != b.end(); ++it) {
              REQUIRE(a.contains(it.key()));
              same(a[it.key()], it.value(), path + "." + it.key());
            }
          } else if (b.is_array()) {
            REQUIRE(a.size() == b.size());
            for (size_t i = 0; i < b.size(); ++i) same(a[i], b[i], path + "[" + std::to_string(i) + "]");
          } else if (b.is_number_float()) {
            const double x = a.get<double>(), y = b.get<double>();
            const std::string field = path.substr(path.rfind('.') + 1);
            INFO("cuda " << x << ", cpu " << y);
            if (field == "eym_bound_2d") {
              // sqrt(1 - head/||G||^2) with head/||G||^2 within ~1e-5 of 1 on this tiny model: a
              // relative rounding difference in the two energies is multiplied by ~1e4, so it is
              // compared as an absolute fraction of ||G|| (the review measured |diff| <= 1.4e-6).
              CHECK(std::abs(x - y) <= 1e-4);
              return;
            }
            const double floor = path.rfind(".trace", 0) == 0 ? 1e-5 * trace_scale[field] : 1e-12;
            CHECK(std::abs(x - y) <= 1e-4 * std::abs(y) + floor);
          } else {
            CHECK(a == b);
          }
        };
    same(g, c, "");
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("cuda parity: the bottleneck demo on cuda measures what the CPU measures", "[cuda][cli]") {
  if (!cuda_or_skip()) return;
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "gs_cuda_bottleneck_test";
  std::filesystem::remove_all(dir);
  auto run = [&](const std::string& device) {
    const std::string out = (dir / device).string();
    REQUIRE(cli::run_bottleneck({"--steps", "4", "--every", "2", "--d-model", "16", "--layers", "1", "--heads", "2",
                                 "--seq-len", "16", "--batch", "4", "--device", device, "--out", out}) == 0);
    std::ifstream in(out + "/run.json");
    return nlohmann::json::parse(in);
  };
  const nlohmann::json c = run("cpu"), g = run("cuda");
  CHECK(c["device"] == "cpu");
  CHECK_THAT(g["device"].get<std::string>(), StartsWith("cuda ("));
  REQUIRE(g["measurements"].size() == c["measurements"].size());
  REQUIRE(c["measurements"].size() == 3);  // steps 0, 2, 4
  for (size_t i = 0; i < c["measurements"].size(); ++i) {
    const auto &a = g["measurements"][i], &b = c["measurements"][i];
    INFO("measurement at step " << b["step"]);
    CHECK(a["step"] == b["step"]);
    // Step 0: the same weights on the same batch, float32 rounding only (1e-4 as for the model
    // gradients). Steps 2 and 4: two AdamW steps apart from rounding in between; AdamW turns a
    // gradient's rounding noise into a step of up to lr for entries whose gradient is ~0 (the
    // attention k bias, which the loss does not depend on), so allow 1e-3.
    const double rel = b["step"] == 0 ? 1e-4 : 1e-3;
    for (const char* key : {"loss", "logit_grad_norm", "destroyed_fraction", "visible_cosine"}) {
      INFO(key << ": cuda " << a[key] << ", cpu " << b[key]);
      CHECK(std::abs(a[key].get<double>() - b[key].get<double>()) <= rel * std::abs(b[key].get<double>()));
    }
    CHECK(a["trace"].size() == b["trace"].size());
  }
  CHECK(g["final"]["leak"]["destroyed_max"].get<double>() < 1e-4);
  CHECK(g["final"]["leak"]["visible_max_diff"].get<double>() < 1e-3);
  std::filesystem::remove_all(dir);
}


// ---- everywhere, device or not -----------------------------------------------------------------

TEST_CASE("cli: --device is checked before any work: a clear error and exit 2 without a device", "[cuda-stub][cli]") {
  REQUIRE_THROWS_WITH(cli::run_analyze({"--device", "gpu"}), "--device: must be cpu or cuda, got 'gpu'");
  REQUIRE_THROWS_WITH(cli::run_train({"--device", "gpu"}), "--device: must be cpu or cuda, got 'gpu'");
  REQUIRE_THROWS_WITH(cli::run_bottleneck({"--device", "gpu"}), "--device: must be cpu or cuda, got 'gpu'");
  REQUIRE_THROWS_WITH(cli::run_backbones({"--device", "gpu"}), "--device: must be cpu or cuda, got 'gpu'");
  if (cuda_available()) return;  // on a device machine device_check runs the CLI on cuda instead
  const std::string expect = cuda_built() ? "--device: cuda: no CUDA device found on this machine"
                                          : "--device: cuda: not built with CUDA";
  // missing input files would be a later error: the device is refused first
  REQUIRE_THROWS_WITH(cli::run_analyze({"--device", "cuda", "--head", "/nonexistent/W.npy"}), StartsWith(expect));
  REQUIRE_THROWS_WITH(cli::run_train({"--device", "cuda", "--steps", "1"}), StartsWith(expect));
  {  // the experiment commands refuse it before the output folder is made
    const std::filesystem::path none = std::filesystem::temp_directory_path() / "gs_cuda_cli_no_folder";
    std::filesystem::remove_all(none);
    REQUIRE_THROWS_WITH(cli::run_bottleneck({"--device", "cuda", "--out", none.string()}), StartsWith(expect));
    REQUIRE_THROWS_WITH(cli::run_backbones({"--device", "cuda", "--out", none.string()}), StartsWith(expect));
    CHECK_FALSE(std::filesystem::exists(none));
  }

  // the binary: exit code 2, the message on stderr, no JSON file
  const std::filesystem::path exe =
      std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "gradscope";
  const std::string tmp = std::filesystem::temp_directory_path() / "gs_cuda_cli_test";
  std::filesystem::remove_all(tmp);
  std::filesystem::create_directories(tmp);
  const std::string cmd = exe.string() + " analyze --device cuda --checkpoint " + tmp + "/none.safetensors --json " +
                          tmp + "/out.json 2>" + tmp + "/err.txt";
  const int rc = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 2);
  std::ifstream err(tmp + "/err.txt");
  const std::string text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Contains("gradscope analyze: " + expect));
  CHECK_FALSE(std::filesystem::exists(tmp + "/out.json"));
  std::filesystem::remove_all(tmp);
}
