#pragma once
// Timing helpers shared by the bench_*.cpp programs (header only; the bench/CMakeLists.txt glob
// picks up bench_*.cpp, not this file). Wall-clock steady_clock, medians over repetitions.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "ops_cpu/gemm_backend.h"
#include "ops_cpu/threads.h"

namespace gs::bench {

inline double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU seconds used by the calling thread (immune to other processes taking the cores, unlike
// wall time; meaningful for single-threaded work only).
inline double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Seconds taken by one call of f.
template <class F>
double time_once(F&& f) {
  const double t0 = now_s();
  f();
  return now_s() - t0;
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

inline double min_of(const std::vector<double>& v) { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }

// Keeps the compiler from discarding a result.
template <class T>
inline void keep(const T& x) {
  asm volatile("" : : "g"(&x) : "memory");
}

// Integer from the environment (e.g. GS_BENCH_REPS), or the default.
inline long env_int(const char* name, long dflt) {
  const char* v = std::getenv(name);
  if (!v || !*v) return dflt;
  const long n = std::strtol(v, nullptr, 10);
  return n > 0 ? n : dflt;
}

inline void print_env_header(const char* title) {
  std::printf("# %s\n", title);
  for (const char* k : {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "GRADSCOPE_NUM_THREADS", "GRADSCOPE_GEMM",
                        "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"}) {
    const char* v = std::getenv(k);
    std::printf("#   %s=%s\n", k, v ? v : "(unset)");
  }
  std::printf("#   float32 gemm backend: %s (oneDNN %s in this build) | threads %d\n",
              cpu::gemm_backend_name(cpu::gemm_backend()), cpu::onednn_available() ? "compiled" : "not compiled",
              cpu::num_threads());
}

}  // namespace gs::bench
