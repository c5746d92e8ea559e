// Dispatch overhead: nanoseconds per op of a 16-element float32 add, where the arithmetic is
// negligible and what is measured is everything around it (argument checks, broadcasting,
// output allocation, dtype/device dispatch, and for autograd the node record / backward).
//
//   raw loop          16 float adds into a preallocated buffer (the arithmetic floor)
//   op::add           gs::op::add (tensor layer, never a graph)
//   gs::add, no grad  the differentiable gs::add when no input requires grad (record() is a no-op)
//   gs::add, NoGrad   the same with a requires-grad input inside a NoGradGuard
//   gs::add, record   a requires-grad input: a node is recorded each call (and freed, result dropped)
//   chain fwd         y = y + b, L ops deep from a requires-grad leaf; graph freed at the end
//   chain fwd+bwd     the same chain, then backward(y, ones); time / L
//
// Each run does ITERS ops (chains: ITERS / L chains of L ops); the table gives the median and the
// minimum ns/op over RUNS runs, in wall time and in this thread's CPU time (the CPU columns are
// the ones to trust when other processes load the machine). Target: <= 1000 ns per op.
// Environment: GS_BENCH_ITERS (default 2,000,000), GS_BENCH_RUNS (default 7), GS_BENCH_CHAIN (default 1000),
// GS_BENCH_ONLY=<substring of a variant name> (e.g. for perf record on one variant).
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "bench/timing.h"
#include "tensor/ops.h"

namespace {

using namespace gs;
using gs::bench::keep;

// run(ops) performs `ops` ops and returns; ns/op = time / ops, wall clock and this thread's CPU
// time (a 16-element op never enters an OpenMP team, so the thread's CPU time is all of it).
void measure(const std::string& name, long ops, int runs, const std::function<void(long)>& run) {
  const char* only = std::getenv("GS_BENCH_ONLY");
  if (only && *only && name.find(only) == std::string::npos) return;
  run(ops / 10 + 1);  // warm-up: allocator, caches, branch predictors
  std::vector<double> wall, cpu;
  for (int i = 0; i < runs; ++i) {
    const double c0 = gs::bench::thread_cpu_s(), w0 = gs::bench::now_s();
    run(ops);
    const double w1 = gs::bench::now_s(), c1 = gs::bench::thread_cpu_s();
    wall.push_back((w1 - w0) * 1e9 / static_cast<double>(ops));
    cpu.push_back((c1 - c0) * 1e9 / static_cast<double>(ops));
  }
  std::printf("%-44s %10.1f %10.1f %10.1f %10.1f\n", name.c_str(), gs::bench::median(wall), gs::bench::min_of(wall),
              gs::bench::median(cpu), gs::bench::min_of(cpu));
  std::fflush(stdout);
}

}  // namespace

int main() {
  gs::bench::print_env_header("bench_dispatch: ns per op, 16-element float32 add");
  const long iters = gs::bench::env_int("GS_BENCH_ITERS", 2000000);
  const int runs = static_cast<int>(gs::bench::env_int("GS_BENCH_RUNS", 7));
  const long L = gs::bench::env_int("GS_BENCH_CHAIN", 1000);
  std::printf("#   iters/run %ld, runs %d, chain length %ld\n\n", iters, runs, L);
  std::printf("%-44s %10s %10s %10s %10s\n", "variant", "wall med", "wall min", "cpu med", "cpu min");

  Generator gen(7);
  const Tensor a = randn({16}, gen), b = randn({16}, gen);
  const Tensor ar = requires_grad(randn({16}, gen));
  const Tensor ones16 = ones({16});

  {
    std::vector<float> out(16);
    const float* pa = a.data<float>();
    const float* pb = b.data<float>();
    measure("raw loop (16 float adds, no allocation)", iters, runs, [&](long n) {
      for (long i = 0; i < n; ++i) {
        float* po = out.data();
        for (int k = 0; k < 16; ++k) po[k] = pa[k] + pb[k];
        keep(po[0]);
      }
    });
  }
  measure("gs::op::add (tensor layer, no graph)", iters, runs, [&](long n) {
    for (long i = 0; i < n; ++i) {
      Tensor c = op::add(a, b);
      keep(c);
    }
  });
  measure("gs::add, no input requires grad", iters, runs, [&](long n) {
    for (long i = 0; i < n; ++i) {
      Tensor c = gs::add(a, b);
      keep(c);
    }
  });
  measure("gs::add, requires-grad input, NoGradGuard", iters, runs, [&](long n) {
    NoGradGuard ng;
    for (long i = 0; i < n; ++i) {
      Tensor c = gs::add(ar, b);
      keep(c);
    }
  });
  measure("gs::add, requires-grad input (node recorded)", iters, runs, [&](long n) {
    for (long i = 0; i < n; ++i) {
      Tensor c = gs::add(ar, b);
      keep(c);
    }
  });
  measure("chain forward only (graph kept, then freed)", iters, runs, [&](long n) {
    for (long done = 0; done < n; done += L) {
      Tensor y = ar;
      for (long i = 0; i < L; ++i) y = gs::add(y, b);
      keep(y);
    }
  });
  measure("chain forward + backward (per op)", iters, runs, [&](long n) {
    for (long done = 0; done < n; done += L) {
      zero_grad(ar);
      Tensor y = ar;
      for (long i = 0; i < L; ++i) y = gs::add(y, b);
      gs::backward(y, ones16);
      keep(y);
    }
  });

  // The chain's gradient must be exactly ones (dy/dx = 1 through every add).
  const Tensor g = grad_of(ar);
  if (!g.defined()) return 0;  // the chain variant was skipped (GS_BENCH_ONLY)
  bool ok = g.numel() == 16;
  for (float v : g.to_vector<float>()) ok = ok && v == 1.0f;
  std::printf("\n(check: chain gradient == ones: %s)\n", ok ? "yes" : "NO");
  return ok ? 0 : 1;
}
