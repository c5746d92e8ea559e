#pragma once
// Thread control for the CPU kernels. One knob: GRADSCOPE_NUM_THREADS (environment) or
// set_num_threads(). It sets both OpenBLAS's pool (gemm) and OpenMP's (elementwise loops).
// The two pools never nest: gemm is never called from inside an OpenMP region, so the
// machine is not oversubscribed.
#include <cstdint>

namespace gs::cpu {

// Number of threads kernels use. First call reads GRADSCOPE_NUM_THREADS (default: all cores).
int num_threads();
void set_num_threads(int n);

// Loops shorter than this run on one thread: spawning costs more than it saves.
inline constexpr int64_t kParallelGrain = 1 << 15;

// f(begin, end) over [0, n) in blocks of kBlock elements, spread over the OpenMP team when n
// is above `grain` (one call on this thread otherwise: no OpenMP runtime entry for small n).
template <class F>
void parallel_blocks(int64_t n, int64_t grain, F&& f) {
  constexpr int64_t kBlock = 4096;
  if (n <= grain) {
    f(int64_t{0}, n);
    return;
  }
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for
  for (int64_t b = 0; b < blocks; ++b) f(b * kBlock, (b + 1) * kBlock < n ? (b + 1) * kBlock : n);
}

}  // namespace gs::cpu
