#pragma once
// CUDA mirror of ops_cpu/copy.h. Element size instead of a template: copies do not care about type.
#include <cstdint>

namespace gs::cuda {

// dst (contiguous) <- src read through src_strides (elements) over shape[ndim]; ndim <= 16.
void strided_copy(int ndim, const int64_t* shape, const void* src, const int64_t* src_strides,
                  int elem_size, void* dst);

// dst (through dst_strides) <- src (contiguous) over shape[ndim].
void strided_scatter(int ndim, const int64_t* shape, const void* src, void* dst, const int64_t* dst_strides,
                     int elem_size);

}  // namespace gs::cuda
