#pragma once
// Device memory for the CUDA backend. In a build without CUDA every entry throws
// "<op>: no CUDA implementation in this build (configure with -DGRADSCOPE_CUDA=ON)".
#include <cstddef>

namespace gs::cuda {

bool available();                 // a CUDA device is present and usable (false in stub builds)
int device_count();
void* device_alloc(size_t nbytes);
void device_free(void* p, size_t nbytes) noexcept;
void copy_to_device(void* dst, const void* src, size_t nbytes);
void copy_to_host(void* dst, const void* src, size_t nbytes);
void copy_on_device(void* dst, const void* src, size_t nbytes);

}  // namespace gs::cuda
