#pragma once
// Which devices this build and machine offer, and the CUDA backend's process-wide settings.
// In a build without CUDA the queries report "no device" / zeros and the switches are
// remembered without effect; nothing here throws except cuda_synchronize and cuda_device_name.
#include <cstdint>
#include <string>

namespace gs {

// True when the CUDA backend is built in and a device is present.
bool cuda_available();
int cuda_device_count();
// True when this build contains the CUDA backend (device present or not).
bool cuda_built();
// True in a -DGRADSCOPE_CUDA=EMULATE build: "the device" is host memory and the CUDA entries run
// the CPU kernels (a test double; cuda_available() and cuda_built() are true there).
bool cuda_emulated();

// The caching allocator behind every CUDA Storage (ops_cuda/memory.h), in bytes.
struct CudaMemoryStats {
  int64_t bytes_in_use = 0;    // requested bytes of live device allocations
  int64_t peak_bytes = 0;      // high-water mark of bytes_in_use since start or the last reset
  int64_t cached_bytes = 0;    // freed blocks kept for reuse (not returned to the driver)
  int64_t reserved_bytes = 0;  // held from the driver: live blocks (rounded to size classes) + cached
  int64_t device_mallocs = 0;  // cudaMalloc calls made (cache misses)
  int64_t cache_hits = 0;      // allocations served from the cache
};
CudaMemoryStats cuda_memory_stats();      // all zeros in a build without CUDA
void cuda_reset_peak_memory();            // peak_bytes = bytes_in_use
void cuda_empty_cache();                  // hand the cached blocks back to the driver
void cuda_synchronize();                  // wait for all queued device work ("synchronize: ...")
std::string cuda_device_name();           // e.g. "NVIDIA H200" ("device_name: ..." without one)

// CPU tensors' buffers of 64 KiB and more are recycled through a cache (ops_cpu/host_memory.h,
// GRADSCOPE_CPU_CACHE_MB): the bytes it holds for reuse now, and handing them back to the heap.
int64_t cpu_cached_bytes();
void cpu_empty_cache();

// float32 matrix products on CUDA may use TF32 tensor cores (10-bit mantissa inputs) when
// allowed. Off by default, so CUDA results match the CPU to float32 rounding. Process-wide;
// returns the previous setting.
bool set_allow_tf32(bool allow);
bool tf32_allowed();

}  // namespace gs
