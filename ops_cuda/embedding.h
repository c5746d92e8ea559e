#pragma once
// CUDA mirror of ops_cpu/embedding.h: same signatures, pointers are device pointers.
// Embedding gather and its scatter-add backward. All arrays contiguous, row-major.
// weight, grad_weight: [V, D]; idx: [n_idx] int64, every entry in [0, V) (the tensor layer
// validates); out, grad_out: [n_idx, D]. T: float, double.
#include <cstdint>

namespace gs::cuda {

// out[i, :] = weight[idx[i], :]
template <class T>
void embedding_forward(int64_t n_idx, int64_t V, int64_t D, const T* weight, const int64_t* idx, T* out);

// grad_weight = 0; then grad_weight[idx[i], :] += grad_out[i, :] for i = 0, 1, ..., n_idx - 1.
// Deterministic, no atomics: the indices are stable-sorted and each distinct index's rows are
// added in index order starting from 0, the CPU's order, so results match ops_cpu bit for bit.
template <class T>
void embedding_backward(int64_t n_idx, int64_t V, int64_t D, const T* grad_out, const int64_t* idx,
                        T* grad_weight);

}  // namespace gs::cuda
