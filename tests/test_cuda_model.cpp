// CUDA against CPU, whole programs (oracle 3 of the design): tiny GPT, GRU and SSM models' loss and every
// parameter gradient, the head metrics on device tensors, errors on mixed devices, the caching
// allocator, and (everywhere, device or not) the public allocator stats, the TF32 switch and
// moving a model to a missing device. The CLI with --device cuda: test_cuda_cli.cpp. Skips and
// tolerances as in test_cuda_parity.cpp (helpers: cuda_test_helpers.h).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/head_bottleneck.h"
#include "analysis/head_json.h"
#include "autograd/ops.h"
#include "nn/device.h"
#include "nn/lm.h"
#include "tensor/lapack.h"
#include "cuda_test_helpers.h"
#include "tensor/ops.h"

using namespace gs;
using namespace gs::testing;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// One tiny language model on the CPU and its copy on the device: the loss and every parameter
// gradient must agree. Returns nothing; every check is inside.
void check_model_parity(const nn::LMConfig& cfg) {
  INFO(cfg.backbone << " backbone");
  auto cpu_model = nn::make_language_model(cfg);
  auto dev_model = nn::make_language_model(cfg);  // same seed: the same weights
  nn::to_device(*dev_model, Device::CUDA);
  REQUIRE(nn::device_of(*dev_model) == Device::CUDA);

  Generator gen(12);
  const Tensor tokens = randint({3, 8}, cfg.vocab, gen);
  std::vector<int64_t> y = randint({3, 8}, cfg.vocab, gen).to_vector<int64_t>();
  y[5] = -100;
  const Tensor targets = from_vector(y, {3, 8});  // on the CPU: the model moves them

  const Tensor loss_cpu = cpu_model->loss(tokens, targets);
  const Tensor loss_dev = dev_model->loss(tokens, targets);
  REQUIRE(loss_dev.device() == Device::CUDA);
  backward(loss_cpu);
  backward(loss_dev);
  const double lc = loss_cpu.item<double>(), ld = loss_dev.item<double>();
  INFO("loss cpu " << lc << ", cuda " << ld);
  CHECK(std::abs(ld - lc) <= 1e-4 * std::abs(lc));

  // Per gradient: max |cuda - cpu| <= 1e-4 max |cpu| (test_golden_gpt.cpp explains the scale).
  // Exception: attn.k.bias's gradient is zero in exact arithmetic (softmax ignores a per-row
  // constant), so both hold rounding noise; its scale is the same layer's k.weight gradient.
  const nn::NamedTensors pc = cpu_model->named_parameters(), pd = dev_model->named_parameters();
  REQUIRE(pc.size() == pd.size());
  auto max_abs = [](const std::vector<double>& v) {
    double m = 0;
    for (double x : v) m = std::max(m, std::abs(x));
    return m;
  };
  auto grad_scale = [&](const std::string& name) {
    const std::string suffix = "k.bias";
    std::string scale_of = name;
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      scale_of = name.substr(0, name.size() - 4) + "weight";
    for (const auto& [n, p] : pc)
      if (n == scale_of) return max_abs(grad_of(p).to_vector<double>());
    FAIL("no parameter " << scale_of);
    return 0.0;
  };
  for (size_t i = 0; i < pc.size(); ++i) {
    INFO(pc[i].first);
    REQUIRE(pc[i].first == pd[i].first);
    const Tensor gc = grad_of(pc[i].second), gd = grad_of(pd[i].second);
    REQUIRE(gc.defined());
    REQUIRE(gd.defined());
    REQUIRE(gd.device() == Device::CUDA);
    const std::vector<double> a = gd.to_vector<double>(), b = gc.to_vector<double>();
    REQUIRE(a.size() == b.size());
    double worst = 0;
    for (size_t k = 0; k < a.size(); ++k) worst = std::max(worst, std::abs(a[k] - b[k]));
    const double scale = grad_scale(pc[i].first);
    INFO("max |diff| " << worst << ", scale " << scale);
    CHECK(scale > 0);
    CHECK(worst <= 1e-4 * scale);
  }
}


}  // namespace

TEST_CASE("cuda parity: a tiny GPT's loss and every parameter gradient (float32, 1e-4 relative)", "[cuda]") {
  if (!cuda_or_skip()) return;
  check_model_parity(tiny_config("transformer"));
}

TEST_CASE("cuda parity: tiny GRU and SSM language models, loss and every parameter gradient", "[cuda]") {
  // The recurrent backbones run T steps of small elementwise ops and matmuls, so rounding
  // differences compound over 8 steps; 1e-4 of each gradient's scale still leaves ~100x room
  // over float32 rounding while a wrong kernel gives O(1) differences.
  if (!cuda_or_skip()) return;
  check_model_parity(tiny_config("gru"));
  check_model_parity(tiny_config("ssm"));
}

TEST_CASE("cuda parity: head metrics on device tensors match the CPU (1e-5 relative, same JSON keys)", "[cuda]") {
  if (!cuda_or_skip()) return;
  Generator gen(13);
  const int64_t N = 96, V = 257, D = 16;
  for (DType dt : kFloats) {
    const Tensor H = randn({N, D}, gen, dt), W = randn({V, D}, gen, dt, 0, 0.5);
    std::vector<int64_t> y = randint({N}, V, gen).to_vector<int64_t>();
    y[0] = y[50] = -100;
    const Tensor targets = from_vector(y);
    analysis::HeadMetricsOptions opts;
    opts.chunk = 40;      // three chunks, the last one short
    opts.topk = 2 * D;    // the randomized spectrum too (same seed: the same Gaussian matrix)
    opts.seed = 3;
    const analysis::HeadMetrics c = analysis::head_metrics(H, W, targets, opts);
    const analysis::HeadMetrics g = analysis::head_metrics(op::to(H, Device::CUDA), op::to(W, Device::CUDA),
                                                           op::to(targets, Device::CUDA), opts);
    // float64: 1e-5, the agreement the head metrics are held to against any other implementation
    // (PyTorch's included, docs/PERFORMANCE.md). float32: the big products round differently in
    // cuBLAS and OpenBLAS (~1e-6 of each entry), which the float64 sums carry into the metrics: 1e-4.
    const double rel = dt == kFloat64 ? 1e-5 : 1e-4;
    auto close = [rel](const char* what, double a, double b) {
      INFO(what << ": cuda " << a << ", cpu " << b);
      CHECK(std::abs(a - b) <= rel * std::abs(b) + 1e-12);
    };
    INFO(dtype_name(dt));
    CHECK(g.tokens == c.tokens);
    CHECK(g.basis_rank == c.basis_rank);
    CHECK(g.per_token.count == c.per_token.count);
    close("loss", g.loss, c.loss);
    close("logit_grad_norm", g.logit_grad_norm, c.logit_grad_norm);
    close("visible_norm", g.visible_norm, c.visible_norm);
    close("destroyed_fraction", g.destroyed_fraction, c.destroyed_fraction);
    close("visible_cosine", g.visible_cosine, c.visible_cosine);
    close("per_token.mean", g.per_token.mean, c.per_token.mean);
    close("per_token.p5", g.per_token.p5, c.per_token.p5);
    close("per_token.p50", g.per_token.p50, c.per_token.p50);
    close("per_token.p95", g.per_token.p95, c.per_token.p95);
    close("update.cosine", g.update.cosine, c.update.cosine);
    close("update.backbone_term_norm", g.update.backbone_term_norm, c.update.backbone_term_norm);
    close("update.head_term_norm", g.update.head_term_norm, c.update.head_term_norm);
    REQUIRE(g.spectrum.singular_values.size() == c.spectrum.singular_values.size());
    for (size_t i = 0; i < c.spectrum.singular_values.size(); ++i)
      close("singular value", g.spectrum.singular_values[i], c.spectrum.singular_values[i]);
    // identical JSON layout: the same keys at every level
    const nlohmann::json jg = analysis::to_json_value(g), jc = analysis::to_json_value(c);
    std::function<void(const nlohmann::json&, const nlohmann::json&)> same_keys = [&](const nlohmann::json& a,
                                                                                       const nlohmann::json& b) {
      REQUIRE(a.type_name() == std::string(b.type_name()));
      if (!b.is_object()) return;
      REQUIRE(a.size() == b.size());
      for (auto it = b.begin(); it != b.end(); ++it) {
        INFO("key " << it.key());
        REQUIRE(a.contains(it.key()));
        same_keys(a[it.key()], it.value());
      }
    };
    same_keys(jg, jc);
  }
}

TEST_CASE("cuda: ops on mixed devices and failed device calls give gs::Error naming the op", "[cuda]") {
  if (!cuda_or_skip()) return;
  const Tensor c = ones({2, 3}), d = op::to(ones({2, 3}), Device::CUDA);
  REQUIRE_THROWS_WITH(op::add(c, d), StartsWith("add: tensors on different devices: cpu [2, 3] and cuda [2, 3]"));
  REQUIRE_THROWS_WITH(op::matmul(c, op::transpose(d, 0, 1)), StartsWith("matmul: tensors on different devices"));
  REQUIRE_THROWS_WITH(op::cross_entropy_forward(d, from_vector(std::vector<int64_t>{0, 1})),
                      StartsWith("cross_entropy: logits on cuda but targets on cpu"));
  REQUIRE_THROWS_WITH(op::embedding(d, from_vector(std::vector<int64_t>{0})), StartsWith("embedding: weight [2, 3] on cuda"));
  // An allocation no device can hold: the CUDA status string, the call and the op in one gs::Error.
  REQUIRE_THROWS_AS(empty({int64_t{1} << 46}, kFloat32, Device::CUDA), Error);
  REQUIRE_THROWS_WITH(empty({int64_t{1} << 46}, kFloat32, Device::CUDA),
                      StartsWith("device_alloc: cudaMalloc failed: ") && Contains("bytes requested"));
}

TEST_CASE("cuda: the caching allocator reuses freed blocks and reports bytes in use, peak and cache", "[cuda]") {
  if (!cuda_or_skip()) return;
  cuda_synchronize();
  const CudaMemoryStats s0 = cuda_memory_stats();
  cuda_reset_peak_memory();
  {
    const Tensor t = empty({1000, 1000}, kFloat32, Device::CUDA);  // 4e6 bytes
    const CudaMemoryStats s1 = cuda_memory_stats();
    CHECK(s1.bytes_in_use == s0.bytes_in_use + 4000000);
    CHECK(s1.peak_bytes >= s1.bytes_in_use);
    CHECK(s1.reserved_bytes >= s1.bytes_in_use + s1.cached_bytes);
  }
  const CudaMemoryStats s2 = cuda_memory_stats();
  CHECK(s2.bytes_in_use == s0.bytes_in_use);
  CHECK(s2.peak_bytes >= s0.bytes_in_use + 4000000);
  CHECK(s2.cached_bytes >= 4000000);  // kept for reuse, not handed back
  {
    const Tensor t = empty({1000, 1000}, kFloat32, Device::CUDA);  // the same size class again
    const CudaMemoryStats s3 = cuda_memory_stats();
    CHECK(s3.cache_hits == s2.cache_hits + 1);
    CHECK(s3.device_mallocs == s2.device_mallocs);
  }
  cuda_empty_cache();
  CHECK(cuda_memory_stats().cached_bytes == 0);
  CHECK_FALSE(cuda_device_name().empty());
}

// ---- everywhere, device or not -----------------------------------------------------------------

TEST_CASE("cuda: public allocator stats and the TF32 switch work without a device", "[cuda-stub]") {
  const bool before = tf32_allowed();
  CHECK_FALSE(before);             // off by default
  CHECK_FALSE(set_allow_tf32(true));  // returns the previous setting
  CHECK(tf32_allowed());
  CHECK(set_allow_tf32(false));
  CHECK_FALSE(tf32_allowed());
  if (cuda_emulated()) {  // the host test double: a "device" that says what it is
    CHECK(cuda_built());
    CHECK(cuda_available());
    CHECK(cuda_device_count() == 1);
    CHECK_THAT(cuda_device_name(), Contains("emulator"));
  }
  if (cuda_available()) return;   // the rest describes a machine without a device
  CHECK(cuda_device_count() == 0);
  const CudaMemoryStats s = cuda_memory_stats();  // nothing was ever allocated on a device
  CHECK(s.bytes_in_use == 0);
  CHECK(s.peak_bytes == 0);
  CHECK(s.cached_bytes == 0);
  CHECK(s.device_mallocs == 0);
  REQUIRE_THROWS_AS(cuda_device_name(), Error);
  REQUIRE_THROWS_AS(cuda_synchronize(), Error);
  // Moving a model to a device that is not there: a gs::Error, and the model stays usable
  auto model = nn::make_language_model(tiny_config("transformer"));
  REQUIRE_THROWS_AS(nn::to_device(*model, Device::CUDA), Error);
  CHECK(nn::device_of(*model) == Device::CPU);
  const Tensor tokens = from_vector(std::vector<int64_t>{1, 2, 3, 4}, {1, 4});
  CHECK(std::isfinite(model->loss(tokens, tokens).item<double>()));
}
