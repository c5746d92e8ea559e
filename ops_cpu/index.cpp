#include "ops_cpu/index.h"

#include <cstring>

#include "ops_cpu/threads.h"

namespace gs::cpu {

template <class T>
void concat_into(int64_t outer, int64_t inner, int64_t len, int64_t total, int64_t offset,
                 const T* src, T* dst) {
  const int64_t chunk = len * inner;  // contiguous elements per outer row in src
  if (chunk == 0) return;
  const size_t bytes = static_cast<size_t>(chunk) * sizeof(T);
#pragma omp parallel for if (outer * chunk > kParallelGrain)
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(dst + o * total * inner + offset * inner, src + o * chunk, bytes);
}

GS_INDEX_INSTANTIATE

}  // namespace gs::cpu
