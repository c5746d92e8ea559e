#pragma once
// CUDA mirror of ops_cpu/reduce.h: same signatures and contracts, namespace gs::cuda.
// Pointers are device pointers; shapes and edge cases are documented in ops_cpu/reduce.h.
// In a build without CUDA, ops_cuda/stub/reduce.cpp provides every entry and throws.
#include <cstdint>

namespace gs::cuda {

template <class T>
void sum_rows(int64_t outer, int64_t inner, const T* x, T* y);

template <class T>
void sum_middle(int64_t outer, int64_t mid, int64_t inner, const T* x, T* y);

template <class T>
void max_rows(int64_t outer, int64_t inner, const T* x, T* y, int64_t* idx);

}  // namespace gs::cuda
