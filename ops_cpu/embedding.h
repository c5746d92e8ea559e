#pragma once
// Embedding gather and its scatter-add backward. All arrays contiguous, row-major.
// weight, grad_weight: [V, D]; idx: [n_idx] int64, every entry in [0, V) (the tensor layer
// validates); out, grad_out: [n_idx, D]. T: float, double.
#include <cstdint>

namespace gs::cpu {

// out[i, :] = weight[idx[i], :]
template <class T>
void embedding_forward(int64_t n_idx, int64_t V, int64_t D, const T* weight, const int64_t* idx, T* out);

// grad_weight = 0; then grad_weight[idx[i], :] += grad_out[i, :] for i = 0, 1, ..., n_idx - 1.
// Deterministic: threads split the D columns into fixed blocks and each block adds in index
// order, so repeated indices sum in the same order whatever the thread count.
template <class T>
void embedding_backward(int64_t n_idx, int64_t V, int64_t D, const T* grad_out, const int64_t* idx,
                        T* grad_weight);

}  // namespace gs::cpu
