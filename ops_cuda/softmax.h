#pragma once
// CUDA mirror of ops_cpu/softmax.h: same signatures and contracts, namespace gs::cuda.
// Pointers are device pointers; shapes and edge cases are documented in ops_cpu/softmax.h.
// In a build without CUDA, ops_cuda/stub/softmax.cpp provides every entry and throws.
#include <cstdint>

namespace gs::cuda {

template <class T>
void softmax_rows(int64_t rows, int64_t cols, const T* x, T* y);

template <class T>
void log_softmax_rows(int64_t rows, int64_t cols, const T* x, T* y);

template <class T>
void softmax_backward_rows(int64_t rows, int64_t cols, const T* y, const T* gy, T* gx);

template <class T>
void log_softmax_backward_rows(int64_t rows, int64_t cols, const T* y, const T* gy, T* gx);

}  // namespace gs::cuda
