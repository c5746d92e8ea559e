#include "ops_cpu/embedding.h"

#include <cstring>

#include "ops_cpu/threads.h"

namespace gs::cpu {

template <class T>
void embedding_forward(int64_t n_idx, int64_t /*V*/, int64_t D, const T* weight, const int64_t* idx,
                       T* out) {
  if (D == 0) return;
#pragma omp parallel for if (n_idx * D > kParallelGrain)
  for (int64_t i = 0; i < n_idx; ++i)
    std::memcpy(out + i * D, weight + idx[i] * D, static_cast<size_t>(D) * sizeof(T));
}

template <class T>
void embedding_backward(int64_t n_idx, int64_t V, int64_t D, const T* grad_out, const int64_t* idx,
                        T* grad_weight) {
  if (V * D > 0) std::memset(grad_weight, 0, static_cast<size_t>(V * D) * sizeof(T));
  constexpr int64_t kBlock = 16;  // columns per task: one 64-byte line of floats
  const int64_t nblocks = (D + kBlock - 1) / kBlock;
#pragma omp parallel for if (n_idx * D > kParallelGrain)
  for (int64_t b = 0; b < nblocks; ++b) {
    const int64_t j0 = b * kBlock, j1 = j0 + kBlock < D ? j0 + kBlock : D;
    for (int64_t i = 0; i < n_idx; ++i) {
      const T* g = grad_out + i * D;
      T* w = grad_weight + idx[i] * D;
      for (int64_t j = j0; j < j1; ++j) w[j] += g[j];
    }
  }
}

GS_EMBEDDING_INSTANTIATE

}  // namespace gs::cpu
