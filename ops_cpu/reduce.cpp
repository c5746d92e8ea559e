#include "ops_cpu/reduce.h"

#include <cmath>
#include <type_traits>
#include <vector>

#include "ops_cpu/threads.h"

namespace gs::cpu {
namespace {

// Accumulator: double for floating types, int64_t for integers.
template <class T>
using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;

// Long rows are summed in chunks of this many elements; the chunk partials are combined in
// order on one thread, so the result does not depend on how many threads computed them.
constexpr int64_t kSumChunk = 1 << 14;

template <class T>
Acc<T> sum_span(int64_t n, const T* x) {
  Acc<T> acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += static_cast<Acc<T>>(x[i]);
  return acc;
}

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  else return false;
}

}  // namespace

template <class T>
void sum_rows(int64_t outer, int64_t inner, const T* x, T* y) {
  if (outer <= 0) return;
  const int64_t total = outer * inner;
  if (inner > kSumChunk && outer < num_threads()) {
    // Few long rows (a full reduction is outer == 1): split each row into fixed chunks.
    const int64_t chunks = (inner + kSumChunk - 1) / kSumChunk;
    std::vector<Acc<T>> part(static_cast<size_t>(chunks));
    for (int64_t o = 0; o < outer; ++o) {
      const T* row = x + o * inner;
#pragma omp parallel for if (inner > kParallelGrain)
      for (int64_t c = 0; c < chunks; ++c) {
        const int64_t b = c * kSumChunk, e = b + kSumChunk < inner ? b + kSumChunk : inner;
        part[c] = sum_span(e - b, row + b);
      }
      Acc<T> acc = 0;
      for (int64_t c = 0; c < chunks; ++c) acc += part[c];
      y[o] = static_cast<T>(acc);
    }
    return;
  }
  // Many rows: one row per iteration, rows split across threads. Each row is summed in the
  // same chunked order as above so both paths agree bit for bit.
#pragma omp parallel for if (total > kParallelGrain)
  for (int64_t o = 0; o < outer; ++o) {
    const T* row = x + o * inner;
    Acc<T> acc = 0;
    for (int64_t b = 0; b < inner; b += kSumChunk) {
      const int64_t e = b + kSumChunk < inner ? b + kSumChunk : inner;
      acc += sum_span(e - b, row + b);
    }
    y[o] = static_cast<T>(acc);
  }
}

template <class T>
void sum_middle(int64_t outer, int64_t mid, int64_t inner, const T* x, T* y) {
  if (outer <= 0 || inner <= 0) return;
  // Work unit: one outer index and a block of up to kBlock inner columns, accumulated in a
  // small Acc buffer while walking mid (rows of x are read contiguously).
  constexpr int64_t kBlock = 256;
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  const int64_t units = outer * blocks;
#pragma omp parallel for if (outer * mid * inner > kParallelGrain)
  for (int64_t u = 0; u < units; ++u) {
    const int64_t o = u / blocks, b = (u % blocks) * kBlock;
    const int64_t w = b + kBlock < inner ? kBlock : inner - b;
    Acc<T> acc[kBlock];
    for (int64_t i = 0; i < w; ++i) acc[i] = 0;
    const T* base = x + o * mid * inner + b;
    for (int64_t m = 0; m < mid; ++m) {
      const T* row = base + m * inner;
      for (int64_t i = 0; i < w; ++i) acc[i] += static_cast<Acc<T>>(row[i]);
    }
    T* out = y + o * inner + b;
    for (int64_t i = 0; i < w; ++i) out[i] = static_cast<T>(acc[i]);
  }
}

template <class T>
void max_rows(int64_t outer, int64_t inner, const T* x, T* y, int64_t* idx) {
  if (outer <= 0 || inner <= 0) return;
#pragma omp parallel for if (outer * inner > kParallelGrain)
  for (int64_t o = 0; o < outer; ++o) {
    const T* row = x + o * inner;
    T best = row[0];
    int64_t arg = 0;
    if (!is_nan(best)) {
      for (int64_t i = 1; i < inner; ++i) {
        const T v = row[i];
        if (is_nan(v)) {  // NaN wins and stops the scan: first NaN is the argmax
          best = v;
          arg = i;
          break;
        }
        if (v > best) {  // strict: ties keep the first index
          best = v;
          arg = i;
        }
      }
    }
    y[o] = best;
    if (idx) idx[o] = arg;
  }
}

GS_REDUCE_INSTANTIATE

}  // namespace gs::cpu
