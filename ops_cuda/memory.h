#pragma once
// Device memory for the CUDA backend. In a build without CUDA every entry throws
// "<op>: no CUDA implementation in this build (configure with -DGRADSCOPE_CUDA=ON)", except the
// queries (available, device_count, memory_stats), which report "no device" / zeros.
//
// One stream: every kernel, cuBLAS/cuSOLVER call and copy of the backend runs, in issue order,
// on a single CUDA stream. device_alloc/device_free go through a caching allocator: a freed
// block is kept in a free list for its size class and handed to the next request of that
// class; cached blocks go back to the driver at exit (or on empty_cache(), or when a cudaMalloc
// fails, after which it is retried once).
#include <cstddef>
#include <cstdint>
#include <string>

#include "ops_common/caching_allocator.h"

namespace gs::cuda {

bool available();                 // a CUDA device is present and usable (false in stub builds)
int device_count();
void* device_alloc(size_t nbytes);
void device_free(void* p, size_t nbytes) noexcept;
// Host <-> device copies return when the data has arrived (they wait for the stream);
// copy_on_device is queued on the stream like a kernel.
void copy_to_device(void* dst, const void* src, size_t nbytes);
void copy_to_host(void* dst, const void* src, size_t nbytes);
void copy_on_device(void* dst, const void* src, size_t nbytes);

// Allocator statistics, in bytes (ops_common/caching_allocator.h; device_mallocs counts cudaMalloc calls).
using MemoryStats = gs::detail::CacheStats;
MemoryStats memory_stats();
void reset_peak_memory();
void empty_cache();               // hand every cached (free) block back to the driver
void synchronize();               // wait until all queued work on the stream has finished
std::string device_name();        // name of the device in use, e.g. "NVIDIA H200"

}  // namespace gs::cuda
