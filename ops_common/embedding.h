#pragma once
// Contract of the embedding kernels shared by gs::cpu and gs::cuda (ops_common/contract.h
// explains the list): the gather and its scatter-add backward. All arrays contiguous, row-major.
// weight, grad_weight: [V, D]; idx: [n_idx] int64, every entry in [0, V) (the tensor layer
// validates); out, grad_out: [n_idx, D]. T: float, double.
//
// embedding_forward   out[i, :] = weight[idx[i], :]
// embedding_backward  grad_weight = 0; then grad_weight[idx[i], :] += grad_out[i, :] for
//                     i = 0, 1, ..., n_idx - 1. Deterministic, in that order on both backends,
//                     so they agree bit for bit (how each keeps the order: its own header).
#include <cstdint>

#include "ops_common/contract.h"

#define GS_EMBEDDING_KERNELS_OF(X, T)                                                                      \
  X((class T), void, embedding_forward, "embedding",                                                      \
    (int64_t n_idx, int64_t V, int64_t D, const T* weight, const int64_t* idx, T* out))                   \
  X((class T), void, embedding_backward, "embedding_backward",                                            \
    (int64_t n_idx, int64_t V, int64_t D, const T* grad_out, const int64_t* idx, T* grad_weight))

#define GS_EMBEDDING_KERNELS(X) GS_EMBEDDING_KERNELS_OF(X, T)
#define GS_EMBEDDING_INSTANTIATE_FOR(T) GS_EMBEDDING_KERNELS_OF(GS_KERNEL_INSTANTIATE, T)
#define GS_EMBEDDING_INSTANTIATE GS_FLOAT_TYPES(GS_EMBEDDING_INSTANTIATE_FOR)
