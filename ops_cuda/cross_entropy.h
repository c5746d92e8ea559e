#pragma once
// CUDA mirror of ops_cpu/cross_entropy.h: same signatures and contracts, namespace gs::cuda.
// Pointers are device pointers; shapes and edge cases are documented in ops_cpu/cross_entropy.h.
// In a build without CUDA, ops_cuda/stub/cross_entropy.cpp provides every entry and throws.
#include <cstdint>

namespace gs::cuda {

template <class T>
void cross_entropy_forward(int64_t N, int64_t V, const T* logits, const int64_t* targets,
                           int64_t ignore_index, T* loss_rows, T* lse);

template <class T>
void cross_entropy_backward(int64_t N, int64_t V, const T* logits, const int64_t* targets,
                            const T* lse, int64_t ignore_index, T scale, T* grad);

}  // namespace gs::cuda
