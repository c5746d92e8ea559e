// bench_cuda: the CUDA backend's benchmarks in one run. Built in CUDA builds only;
// run on a machine with a device (scripts/device_check does, writing its output to $OUT).
//
//   1. matmul      engine op::matmul (float32, cuBLAS through the one gemm wrapper, new output
//                  from the caching allocator every call) vs raw cublasSgemm into a preallocated
//                  C, same shapes, same math mode (TF32 off; then both with TF32 allowed).
//                  Target: engine >= 95% of raw.
//   2. cross-entropy  op::cross_entropy_forward + op::cross_entropy_backward on [N, V] float32
//                  logits: bytes moved = 3 N V 4 (the forward reads the logits once, the backward
//                  reads them again and writes the gradient), per second, vs a float4 device copy
//                  kernel (bench/cuda_copy.cu, read + write) and cudaMemcpy device-to-device, both
//                  measured in the same run on a buffer of the same size. Target: >= 70% of copy.
//   3. GPT step    the model of bench/bench_gpt_step.cpp (4 layers, d 256, 4 heads, context 128,
//                  vocab 8192, B 16 x T 128) moved to the device; fwd + bwd + AdamW; tokens/s.
//   4. head metrics  analysis::head_metrics at N = 65536, V = 50257, D = 768 float32 on device
//                  tensors (update terms on, no spectrum), with the allocator's peak memory.
//
// Every number is the median of repetitions after one warm-up, timed on the host around
// cudaDeviceSynchronize (both sides pay the same launch and wait). Environment: GS_BENCH_REPS
// (default 10), GS_BENCH_SKIP_HEAD=1 skips part 4, GS_BENCH_HEAD_N overrides its N.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "analysis/head_bottleneck.h"
#include "autograd/ops.h"
#include "bench/cuda_copy.h"
#include "bench/gpt_config.h"
#include "bench/timing.h"
#include "nn/device.h"
#include "nn/lm.h"
#include "nn/optim.h"
#include "tensor/ops.h"

namespace {

using namespace gs;
using gs::bench::median;
using gs::bench::now_s;

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}
void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw std::runtime_error(std::string(what) + ": " + cublasGetStatusString(s));
}

void sync() { check(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }

// Median seconds of f over reps runs after one warm-up; the device is idle before and after each.
template <class F>
double time_median(int reps, F&& f) {
  f();
  sync();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    sync();
    const double t0 = now_s();
    f();
    sync();
    t.push_back(now_s() - t0);
  }
  return median(t);
}

// ---- 1. matmul ------------------------------------------------------------------------------

struct MatmulShape {
  const char* what;
  int64_t M, N, K;
  bool trans_b;  // B stored [N, K] (a linear layer's weight, the head's W)
};

void bench_matmul(cublasHandle_t h, int reps) {
  std::printf("\n## 1. matmul float32: engine op::matmul vs raw cublasSgemm (target >= 95%%)\n");
  std::printf("%-26s %6s %6s %6s %5s %11s %11s %9s %9s %10s\n", "shape", "M", "N", "K", "tf32", "engine ms",
              "cublas ms", "engine TF", "ratio", "max|diff|");
  const MatmulShape shapes[] = {{"square 4096^3", 4096, 4096, 4096, false},
                                {"GPT head logits", 2048, 8192, 256, true},
                                {"GPT MLP up", 2048, 1024, 256, true},
                                {"head metrics H W^T chunk", 8192, 50257, 768, true}};
  for (bool tf32 : {false, true}) {
    set_allow_tf32(tf32);
    check(cublasSetMathMode(h, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    for (const MatmulShape& s : shapes) {
      Generator gen(1);
      const Tensor a = op::to(randn({s.M, s.K}, gen), Device::CUDA);
      const Tensor b = op::to(s.trans_b ? randn({s.N, s.K}, gen) : randn({s.K, s.N}, gen), Device::CUDA);
      Tensor c_engine;
      const double te = time_median(reps, [&] { c_engine = op::matmul(a, b, false, s.trans_b); });
      // Row-major C = A op(B) is column-major C^T = op(B)^T A^T: cuBLAS gets (B, A) swapped.
      const Tensor c_raw = empty({s.M, s.N}, kFloat32, Device::CUDA);
      const float one = 1, zero = 0;
      const int M = static_cast<int>(s.M), N = static_cast<int>(s.N), K = static_cast<int>(s.K);
      const double tr = time_median(reps, [&] {
        check(cublasSgemm(h, s.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one, b.data<float>(),
                          s.trans_b ? K : N, a.data<float>(), K, &zero, c_raw.data<float>(), N),
              "cublasSgemm");
      });
      const double diff = op::max(op::flatten(op::abs(op::sub(c_engine, c_raw))), 0).item<double>();
      const double tflops = 2.0 * static_cast<double>(s.M) * static_cast<double>(s.N) * static_cast<double>(s.K) / te / 1e12;
      std::printf("%-26s %6ld %6ld %6ld %5s %11.3f %11.3f %9.1f %8.1f%% %10.2e\n", s.what, static_cast<long>(s.M),
                  static_cast<long>(s.N), static_cast<long>(s.K), tf32 ? "on" : "off", te * 1e3, tr * 1e3, tflops,
                  100.0 * tr / te, diff);
    }
  }
  set_allow_tf32(false);
  check(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
}

// ---- 2. cross-entropy bandwidth -------------------------------------------------------------

void bench_cross_entropy(int reps) {
  std::printf("\n## 2. fused cross-entropy float32: bandwidth vs a device copy (target >= 70%%)\n");
  std::printf("%6s %6s %10s %10s %10s %12s %12s %12s %9s\n", "N", "V", "fwd ms", "bwd ms", "total ms", "CE GB/s",
              "copy GB/s", "memcpy GB/s", "CE/copy");
  const int64_t sizes[][2] = {{8192, 50257}, {16384, 32000}, {2048, 8192}};
  for (const auto& nv : sizes) {
    const int64_t N = nv[0], V = nv[1];
    Generator gen(2);
    const Tensor logits = op::to(randn({N, V}, gen, kFloat32, 0.0, 2.0), Device::CUDA);
    const Tensor targets = op::to(randint({N}, V, gen), Device::CUDA);
    op::CrossEntropyResult fwd;
    const double tf = time_median(reps, [&] { fwd = op::cross_entropy_forward(logits, targets); });
    Tensor grad;
    const double tb = time_median(reps, [&] { grad = op::cross_entropy_backward(logits, targets, fwd.lse, 1.0 / N); });
    const double bytes_ce = 3.0 * static_cast<double>(N * V) * sizeof(float);
    // The reference moves the same bytes: one copy of n floats reads n and writes n, so a copy
    // of 1.5 N V floats moves 3 N V floats.
    const int64_t n_copy = N * V * 3 / 2;
    const Tensor src = empty({n_copy}, kFloat32, Device::CUDA), dst = empty({n_copy}, kFloat32, Device::CUDA);
    check(cudaMemset(src.data<float>(), 0, static_cast<size_t>(n_copy) * sizeof(float)), "cudaMemset");
    const double tc = time_median(reps, [&] {
      check(static_cast<cudaError_t>(gs::bench::device_copy(src.data<float>(), dst.data<float>(), n_copy)), "copy");
    });
    const double tm = time_median(reps, [&] {
      check(cudaMemcpy(dst.data<float>(), src.data<float>(), static_cast<size_t>(n_copy) * sizeof(float),
                       cudaMemcpyDeviceToDevice),
            "cudaMemcpy");
    });
    const double bw_ce = bytes_ce / (tf + tb) / 1e9, bw_copy = bytes_ce / tc / 1e9, bw_memcpy = bytes_ce / tm / 1e9;
    std::printf("%6ld %6ld %10.3f %10.3f %10.3f %12.0f %12.0f %12.0f %8.1f%%\n", static_cast<long>(N),
                static_cast<long>(V), tf * 1e3, tb * 1e3, (tf + tb) * 1e3, bw_ce, bw_copy, bw_memcpy,
                100.0 * bw_ce / bw_copy);
    std::printf("   forward alone %.0f GB/s (reads N V), backward alone %.0f GB/s (reads + writes N V)\n",
                static_cast<double>(N * V) * sizeof(float) / tf / 1e9,
                2.0 * static_cast<double>(N * V) * sizeof(float) / tb / 1e9);
  }
}

// ---- 3. GPT training step -------------------------------------------------------------------

void bench_gpt_step(int reps) {
  std::printf("\n## 3. GPT training step on the device (bench_gpt_step's model: fwd + bwd + AdamW), float32\n");
  constexpr int64_t kB = gs::bench::kGptBatch, kT = gs::bench::kGptContext;
  const nn::LMConfig cfg = gs::bench::small_gpt_config();
  auto model = nn::make_language_model(cfg);
  nn::to_device(*model, Device::CUDA);
  nn::AdamW opt(model->named_parameters(), 3e-4);
  Generator gen(3);
  const Tensor tokens = op::to(randint({kB, kT}, cfg.vocab, gen), Device::CUDA);
  const Tensor targets = op::to(randint({kB, kT}, cfg.vocab, gen), Device::CUDA);
  double loss = 0;
  auto step = [&] {
    opt.zero_grad();
    const Tensor l = model->loss(tokens, targets);
    backward(l);
    opt.step();
    loss = l.item<double>();
  };
  for (int i = 0; i < 2; ++i) step();  // warm-up: the allocator's cache fills here
  const double t = time_median(reps, step);
  const CudaMemoryStats m = cuda_memory_stats();
  std::printf("%ld parameters, B %ld x T %ld: %.2f ms per step, %.0f tokens/s (loss %.4f; allocator peak %.1f MiB, "
              "%ld cudaMalloc calls, %ld cache hits)\n",
              static_cast<long>(model->parameter_count()), static_cast<long>(kB), static_cast<long>(kT), t * 1e3,
              static_cast<double>(kB * kT) / t, loss, static_cast<double>(m.peak_bytes) / (1 << 20),
              static_cast<long>(m.device_mallocs), static_cast<long>(m.cache_hits));
}

// ---- 4. head metrics ------------------------------------------------------------------------

void bench_head_metrics() {
  const int64_t N = gs::bench::env_int("GS_BENCH_HEAD_N", 65536), V = 50257, D = 768;
  std::printf("\n## 4. head metrics on device tensors: N = %ld, V = %ld, D = %ld, float32 (update terms, no spectrum)\n",
              static_cast<long>(N), static_cast<long>(V), static_cast<long>(D));
  Generator gen(4);
  const Tensor H = op::to(randn({N, D}, gen), Device::CUDA);
  const Tensor W = op::to(randn({V, D}, gen, kFloat32, 0.0, 0.05), Device::CUDA);
  const Tensor y = op::to(randint({N}, V, gen), Device::CUDA);
  analysis::HeadMetricsOptions opts;
  opts.memory_budget_bytes = int64_t{4} << 30;  // chunk buffers: 2 x c x V floats
  cuda_synchronize();
  cuda_reset_peak_memory();
  const int64_t base = cuda_memory_stats().bytes_in_use;
  const double t0 = now_s();
  const analysis::HeadMetrics m = analysis::head_metrics(H, W, y, opts);
  cuda_synchronize();
  const double total = now_s() - t0;
  const CudaMemoryStats s = cuda_memory_stats();
  const double gemm_s = 2.0 * static_cast<double>(N) * V * D / 1e12;  // TFLOP of one N x D x V product
  std::printf("total %.2f s (basis %.2f s on the host, pass %.2f s), chunk %ld rows; 3 products of %.1f TFLOP each\n",
              total, m.run.basis_s, m.run.pass_s, static_cast<long>(m.run.chunk), gemm_s);
  std::printf("destroyed_fraction %.6f, visible_cosine %.6f, update cosine %.6f, loss %.4f\n", m.destroyed_fraction,
              m.visible_cosine, m.update.cosine, m.loss);
  std::printf("device memory beyond the inputs: peak %.1f MiB\n",
              static_cast<double>(s.peak_bytes - base) / (1 << 20));
}

}  // namespace

int main() {
  try {
    if (!cuda_available()) {
      std::fprintf(stderr, "bench_cuda: no CUDA device on this machine (%s)\n",
                   cuda_built() ? "the build has the CUDA backend" : "and the build has no CUDA backend");
      return 2;
    }
    const int reps = static_cast<int>(gs::bench::env_int("GS_BENCH_REPS", 10));
    std::printf("# bench_cuda on %s (%d device(s)), %d repetitions per number (median)\n", cuda_device_name().c_str(),
                cuda_device_count(), reps);
    cublasHandle_t h = nullptr;
    check(cublasCreate(&h), "cublasCreate");
    bench_matmul(h, reps);
    check(cublasDestroy(h), "cublasDestroy");
    bench_cross_entropy(reps);
    bench_gpt_step(reps);
    if (!gs::bench::env_int("GS_BENCH_SKIP_HEAD", 0)) bench_head_metrics();
    std::fflush(stdout);
    return 0;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "bench_cuda: %s\n", e.what());
    return 1;
  }
}
