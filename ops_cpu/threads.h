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

}  // namespace gs::cpu
