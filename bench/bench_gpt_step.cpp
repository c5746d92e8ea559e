// One GPT training step on gradscope vs the same model in PyTorch eager.
//
// Model: make_language_model with the Transformer backbone and an untied full head, float32:
// 4 layers, d_model 256, 4 heads, MLP 1024, context = T = 128, vocab 8192 (7.4 M parameters;
// attention is gradscope's plain composite: matmul, scale, masked_fill(-inf), softmax, matmul).
// Batch B 16 x T 128 = 2048 tokens of seeded random ids. A step is
//   opt.zero_grad(); loss = model.loss(tokens, targets); backward(loss); opt.step()   (AdamW)
// tokens/s = B * T * timed steps / their total wall time, after warm-up steps. Also printed: the
// process CPU time per step (all threads). On a machine shared with other jobs, wall time includes
// waiting for a core; with one thread, CPU time does not, so the CPU-time ratio is the one that
// survives a busy machine (with more threads it also counts the threads' spin-waiting).
//
// Then one more step runs under gs::Profiler (autograd/profiler.h) and its per-op table is
// printed: forward time per op (time since the previous recorded op, so it includes the little
// glue between ops) and backward time per vjp; the optimiser runs under NoGradGuard and is not in
// the table, so its time is printed beside it.
//
// The PyTorch twin, bench/gpt_step_torch.py, builds the same model from the same ops (composite
// attention with a mask, not torch's fused scaled_dot_product_attention) and is run by this
// program as a child process with the same thread count, so both numbers come from one run.
// GS_BENCH_CONFIG=gpt2vocab runs the same model with V = 50257 (gradscope's head is the fused,
// chunked linear_cross_entropy; torch computes the [2048, 50257] logits) and also prints the peak
// resident memory of both processes: `peak memory torch / gradscope: A MiB / B MiB = R`.
// Model FLOPs utilisation: the step's matrix-product FLOPs (3 x the forward's: linear layers,
// both attention products over the full T x T, the head) / (step time x this run's 2048^3 sgemm
// rate on the faster of OpenBLAS and oneDNN).
// Environment: GS_BENCH_CONFIG (small | gpt2vocab), GS_BENCH_STEPS (timed steps, default 5), GS_BENCH_WARMUP (default 2),
// GS_BENCH_TORCH=0 skips the torch twin, GS_BENCH_TORCH_SCRIPT overrides its path,
// GS_BENCH_PYTHON the interpreter (default /usr/bin/python3, Debian's python3-torch),
// GS_BENCH_TORCH_PROFILE=1 makes the twin print torch's own per-op table of one step too,
// GRADSCOPE_NUM_THREADS the threads of both (default: all cores).
#include <cblas.h>
#include <sys/resource.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/profiler.h"
#include "bench/gpt_config.h"
#include "bench/timing.h"
#include "nn/lm.h"
#include "nn/optim.h"
#include "ops_cpu/gemm.h"
#include "ops_cpu/gemm_backend.h"
#include "ops_cpu/threads.h"
#include "tensor/ops.h"

namespace {

using namespace gs;
using gs::bench::median;
using gs::bench::now_s;

constexpr int64_t kB = gs::bench::kGptBatch, kT = gs::bench::kGptContext;

struct StepTimes {
  double fwd, bwd, opt, loss;
};

// CPU seconds used by this process, all threads together.
double process_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct TorchResult {
  double tokens_per_s = 0, cpu_s_per_step = 0, peak_rss_mib = 0;
};

// Peak resident set of this process so far, MiB.
double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux: KiB
}

// Matrix-product FLOPs of one training step: forward products x 3 (forward, and the two backward
// products per forward one).
double step_flops(const nn::LMConfig& c, int64_t B, int64_t T) {
  const double D = double(c.d_model), L = double(c.n_layer), tok = double(B * T);
  const double linear = 2.0 * (4 * D * D + 2 * D * D * double(c.mlp_ratio));  // q, k, v, proj; fc1, fc2
  const double attn = 2.0 * 2.0 * double(T) * D;                              // QK^T and PV, per token
  const double head = 2.0 * D * double(c.vocab);
  return 3.0 * tok * (L * (linear + attn) + head);
}

// GFLOP/s of one 2048^3 float32 gemm on the faster backend (median of 3, after one warm-up each).
double best_sgemm_gflops(std::string* which) {
  const int64_t n = 2048;
  Generator g(5);
  Tensor A = randn({n, n}, g), B = randn({n, n}, g), C = zeros({n, n});
  const cpu::GemmBackend saved = cpu::gemm_backend();
  double best = 0;
  std::vector<cpu::GemmBackend> libs{cpu::GemmBackend::openblas};
  if (cpu::onednn_available()) libs.push_back(cpu::GemmBackend::onednn);
  for (const cpu::GemmBackend lib : libs) {
    cpu::set_gemm_backend(lib);
    auto run = [&] { cpu::gemm<float>(false, false, n, n, n, 1.0f, A.data<float>(), n, B.data<float>(), n, 0.0f, C.data<float>(), n); };
    run();
    std::vector<double> t;
    for (int r = 0; r < 3; ++r) t.push_back(gs::bench::time_once(run));
    const double gf = 2.0 * double(n) * double(n) * double(n) / median(t) * 1e-9;
    if (gf > best) best = gf, *which = cpu::gemm_backend_name(lib);
  }
  cpu::set_gemm_backend(saved);
  return best;
}

// Where the torch script lives: beside this file unless overridden.
std::string torch_script() {
  if (const char* p = std::getenv("GS_BENCH_TORCH_SCRIPT")) return p;
  std::string here = __FILE__;
  const size_t slash = here.find_last_of('/');
  return (slash == std::string::npos ? std::string(".") : here.substr(0, slash)) + "/gpt_step_torch.py";
}

// Runs the torch twin; echoes its output and returns its numbers (0 when it failed).
TorchResult run_torch(long steps, long warmup, int threads, const std::string& config) {
  const char* py = std::getenv("GS_BENCH_PYTHON");
  const std::string cmd = std::string(py ? py : "/usr/bin/python3") + " '" + torch_script() + "' --steps " +
                          std::to_string(steps) + " --warmup " + std::to_string(warmup) + " --threads " +
                          std::to_string(threads) + " --config " + config + (gs::bench::env_int("GS_BENCH_TORCH_PROFILE", 0) ? " --profile" : "") +
                          " 2>&1";
  std::printf("\n# torch twin: %s\n", cmd.c_str());
  std::fflush(stdout);
  FILE* f = popen(cmd.c_str(), "r");
  TorchResult r;
  if (!f) return r;
  std::array<char, 512> line{};
  while (std::fgets(line.data(), static_cast<int>(line.size()), f)) {
    std::fputs(line.data(), stdout);
    double v = 0;
    if (std::sscanf(line.data(), "torch_tokens_per_s %lf", &v) == 1) r.tokens_per_s = v;
    if (std::sscanf(line.data(), "torch_cpu_s_per_step %lf", &v) == 1) r.cpu_s_per_step = v;
    if (std::sscanf(line.data(), "torch_peak_rss_mib %lf", &v) == 1) r.peak_rss_mib = v;
  }
  const int rc = pclose(f);
  if (rc != 0) std::printf("# torch twin exited with status %d\n", rc);
  return r;
}

}  // namespace

int main() {
  const long steps = gs::bench::env_int("GS_BENCH_STEPS", 5);
  const long warmup = gs::bench::env_int("GS_BENCH_WARMUP", 2);
  const char* torch_env = std::getenv("GS_BENCH_TORCH");
  const bool with_torch = !(torch_env && std::string(torch_env) == "0");
  const int threads = cpu::num_threads();

  gs::bench::print_env_header("bench_gpt_step: GPT training step (fwd + bwd + AdamW), float32");
  const char* config_env = std::getenv("GS_BENCH_CONFIG");
  const std::string config = config_env && *config_env ? config_env : "small";
  const nn::LMConfig cfg = gs::bench::gpt_config_named(config);
  std::printf("#   config %s\n", config.c_str());
  auto model = nn::make_language_model(cfg);
  nn::AdamW opt(model->named_parameters(), 3e-4);  // betas (0.9, 0.999), eps 1e-8, weight decay 0.01
  Generator gen(1);
  const Tensor tokens = randint({kB, kT}, cfg.vocab, gen), targets = randint({kB, kT}, cfg.vocab, gen);
  std::printf("#   model: %ld layers, d_model %ld, %ld heads, vocab %ld, T %ld, B %ld, %ld parameters; threads %d\n",
              static_cast<long>(cfg.n_layer), static_cast<long>(cfg.d_model), static_cast<long>(cfg.n_head),
              static_cast<long>(cfg.vocab), static_cast<long>(kT), static_cast<long>(kB),
              static_cast<long>(model->parameter_count()), threads);
  std::printf("#   %ld warm-up steps, %ld timed steps; openblas core %s\n", warmup, steps, openblas_get_corename());

  auto step = [&]() {
    StepTimes s{};
    opt.zero_grad();
    const double t0 = now_s();
    const Tensor loss = model->loss(tokens, targets);
    const double t1 = now_s();
    backward(loss);
    const double t2 = now_s();
    opt.step();
    const double t3 = now_s();
    s = {t1 - t0, t2 - t1, t3 - t2, loss.item<double>()};
    return s;
  };

  for (long i = 0; i < warmup; ++i) {
    const StepTimes s = step();
    std::printf("#   warm-up step %ld: loss %.4f, %.3f s\n", i + 1, s.loss, s.fwd + s.bwd + s.opt);
  }
  std::vector<double> fwd, bwd, upd, tot;
  double first_loss = 0, last_loss = 0;
  const double t_start = now_s(), c_start = process_cpu_s();
  for (long i = 0; i < steps; ++i) {
    const StepTimes s = step();
    if (i == 0) first_loss = s.loss;
    last_loss = s.loss;
    fwd.push_back(s.fwd), bwd.push_back(s.bwd), upd.push_back(s.opt), tot.push_back(s.fwd + s.bwd + s.opt);
  }
  const double elapsed = now_s() - t_start;
  const double cpu_per_step = (process_cpu_s() - c_start) / static_cast<double>(steps);
  const double gs_tps = static_cast<double>(kB * kT * steps) / elapsed;
  const double gs_rss = peak_rss_mib();  // before the profiled step and the torch child
  std::printf("\n%-10s %10s %10s %10s %10s %12s %12s\n", "engine", "fwd ms", "bwd ms", "adamw ms", "step ms",
              "tokens/s", "cpu ms/step");
  std::printf("%-10s %10.1f %10.1f %10.1f %10.1f %12.0f %12.0f   (medians; tokens/s and cpu over all %ld timed steps; "
              "loss %.4f -> %.4f)\n",
              "gradscope", median(fwd) * 1e3, median(bwd) * 1e3, median(upd) * 1e3, median(tot) * 1e3, gs_tps,
              cpu_per_step * 1e3, steps, first_loss, last_loss);

  {
    std::printf("\n# per-op profile of one more step (gs::Profiler; adamw is not in the table, see below)\n");
    double t_opt = 0, t_all = 0;
    std::string report;
    {
      Profiler prof;
      opt.zero_grad();
      const double t0 = now_s();
      prof.mark();
      const Tensor loss = model->loss(tokens, targets);
      backward(loss);
      const double t1 = now_s();
      opt.step();
      t_opt = now_s() - t1;
      t_all = now_s() - t0;
      report = prof.report();
    }
    std::fputs(report.c_str(), stdout);
    std::printf("adamw step (NoGradGuard, not profiled): %.2f ms; whole profiled step: %.2f ms\n", t_opt * 1e3,
                t_all * 1e3);
  }

  std::string best_lib;
  const double peak_gf = best_sgemm_gflops(&best_lib);
  const double flops = step_flops(cfg, kB, kT);
  const double step_s = elapsed / static_cast<double>(steps);
  std::printf("\nmodel FLOPs utilisation: %.1f GFLOP per step / (%.1f ms x %.1f GFLOP/s, 2048^3 sgemm on %s) = %.1f%%\n",
              flops * 1e-9, step_s * 1e3, peak_gf, best_lib.c_str(), 100.0 * flops / (step_s * peak_gf * 1e9));

  if (with_torch) {
    const TorchResult t = run_torch(steps, warmup, threads, config);
    if (t.tokens_per_s > 0) {
      std::printf("\nratio gradscope / torch eager, wall tokens/s: %.0f / %.0f = %.2f (%s)\n", gs_tps, t.tokens_per_s,
                  gs_tps / t.tokens_per_s, gs_tps >= 2.0 * t.tokens_per_s ? "target >= 2 met" : "target >= 2 NOT met");
      if (config == "gpt2vocab" && t.peak_rss_mib > 0)
        std::printf("peak memory torch / gradscope: %.0f MiB / %.0f MiB = %.2f (%s)\n", t.peak_rss_mib, gs_rss,
                    t.peak_rss_mib / gs_rss, t.peak_rss_mib >= 2.0 * gs_rss ? "target >= 2 met" : "target >= 2 NOT met");
      if (t.cpu_s_per_step > 0)
        std::printf("ratio by CPU time per step (torch / gradscope): %.0f ms / %.0f ms = %.2f\n", t.cpu_s_per_step * 1e3,
                    cpu_per_step * 1e3, t.cpu_s_per_step / cpu_per_step);
    } else
      std::printf("\n# torch twin gave no number (is /usr/bin/python3 with torch installed?)\n");
  }
  return 0;
}
