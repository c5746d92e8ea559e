// Embedding gather and its deterministic scatter-add backward on the device (ops_cuda/embedding.h).
// The backward uses no atomics: the indices are sorted (stable radix sort of (index, position)
// pairs), then one block per distinct index sums its gradient rows in ascending position order,
// one thread per column, starting from 0 in T: exactly the CPU's order of additions, so the
// result matches ops_cpu bit for bit and never depends on scheduling.
#include <cub/device/device_radix_sort.cuh>

#include <climits>

#include "ops_cuda/check.h"
#include "ops_cuda/context.h"
#include "ops_cuda/embedding.h"
#include "ops_cuda/kernels.cuh"

namespace gs::cuda {
namespace {

// weight: [V, D]; idx: [n_idx]; out: [n_idx, D]. Grid: x covers D (grid-stride), y loops rows.
template <class T>
__global__ void embedding_forward_kernel(int64_t n_idx, int64_t D, const T* __restrict__ weight,
                                         const int64_t* __restrict__ idx, T* __restrict__ out) {
  for (int64_t i = blockIdx.y; i < n_idx; i += gridDim.y) {
    const T* src = weight + idx[i] * D;
    T* dst = out + i * D;
    for (int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; j < D; j += int64_t{gridDim.x} * blockDim.x)
      dst[j] = src[j];
  }
}

// keys[i] = idx[i] (as uint32), pos[i] = i. idx, keys, pos: [n].
__global__ void make_sort_pairs_kernel(int n, const int64_t* __restrict__ idx, uint32_t* __restrict__ keys,
                                       int* __restrict__ pos) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    keys[i] = static_cast<uint32_t>(idx[i]);
    pos[i] = i;
  }
}

// keys, pos: [n], sorted by key, positions ascending within a key. grad_out: [n, D];
// grad_weight: [V, D], already zero. Block k (looping) owns sorted slot k; if k starts a run of
// equal keys, its threads (one per column, looping) sum the run's rows in order and write
// grad_weight[key, :]. Blocks on other slots have nothing to do.
template <class T>
__global__ void embedding_backward_kernel(int n, int64_t D, const uint32_t* __restrict__ keys,
                                          const int* __restrict__ pos, const T* __restrict__ grad_out,
                                          T* __restrict__ grad_weight) {
  for (int k = blockIdx.x; k < n; k += gridDim.x) {
    const uint32_t key = keys[k];
    if (k > 0 && keys[k - 1] == key) continue;  // not the first of its run (uniform in the block)
    int end = k + 1;
    while (end < n && keys[end] == key) ++end;
    T* w = grad_weight + static_cast<int64_t>(key) * D;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      T acc = T(0);
      for (int p = k; p < end; ++p) acc += grad_out[static_cast<int64_t>(pos[p]) * D + j];
      w[j] = acc;
    }
  }
}

}  // namespace

template <class T>
void embedding_forward(int64_t n_idx, int64_t /*V*/, int64_t D, const T* weight, const int64_t* idx, T* out) {
  if (n_idx <= 0 || D <= 0) return;
  cudaStream_t st = detail::stream("embedding");
  const dim3 grid(detail::grid_for(D), static_cast<unsigned>(n_idx < 65535 ? n_idx : 65535));
  embedding_forward_kernel<T><<<grid, detail::kThreads, 0, st>>>(n_idx, D, weight, idx, out);
  GS_CUDA_CHECK_LAUNCH("embedding", "embedding_forward_kernel");
}

template <class T>
void embedding_backward(int64_t n_idx, int64_t V, int64_t D, const T* grad_out, const int64_t* idx, T* grad_weight) {
  const char* op = "embedding_backward";
  cudaStream_t st = detail::stream(op);
  if (V * D > 0) GS_CUDA_CHECK(op, cudaMemsetAsync(grad_weight, 0, static_cast<size_t>(V * D) * sizeof(T), st));
  if (n_idx <= 0 || D <= 0 || V <= 0) return;
  if (n_idx > INT_MAX || V > int64_t{UINT32_MAX})
    throw std::runtime_error(std::string(op) + ": at most 2^31 - 1 indices and 2^32 rows are supported, got " +
                             std::to_string(n_idx) + " indices into " + std::to_string(V) + " rows");
  const int n = static_cast<int>(n_idx);
  int end_bit = 1;  // sort only the bits an index in [0, V) can have
  while (end_bit < 32 && (int64_t{1} << end_bit) < V) ++end_bit;

  detail::DeviceBuffer keys_in(op, n * sizeof(uint32_t)), keys_out(op, n * sizeof(uint32_t));
  detail::DeviceBuffer pos_in(op, n * sizeof(int)), pos_out(op, n * sizeof(int));
  make_sort_pairs_kernel<<<detail::grid_for(n), detail::kThreads, 0, st>>>(n, idx, keys_in.as<uint32_t>(),
                                                                         pos_in.as<int>());
  GS_CUDA_CHECK_LAUNCH(op, "make_sort_pairs_kernel");

  size_t temp_bytes = 0;
  GS_CUDA_CHECK(op, cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, keys_in.as<uint32_t>(),
                                                    keys_out.as<uint32_t>(), pos_in.as<int>(), pos_out.as<int>(), n,
                                                    0, end_bit, st));
  detail::DeviceBuffer temp(op, temp_bytes);
  GS_CUDA_CHECK(op, cub::DeviceRadixSort::SortPairs(temp.get(), temp_bytes, keys_in.as<uint32_t>(),
                                                    keys_out.as<uint32_t>(), pos_in.as<int>(), pos_out.as<int>(), n,
                                                    0, end_bit, st));

  const unsigned blocks = static_cast<unsigned>(n < (1 << 20) ? n : (1 << 20));
  embedding_backward_kernel<T><<<blocks, detail::row_threads(D), 0, st>>>(n, D, keys_out.as<uint32_t>(),
                                                                          pos_out.as<int>(), grad_out, grad_weight);
  GS_CUDA_CHECK_LAUNCH(op, "embedding_backward_kernel");
}

GS_EMBEDDING_INSTANTIATE

}  // namespace gs::cuda
