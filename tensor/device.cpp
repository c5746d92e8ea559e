#include "tensor/device.h"

#include "ops_cpu/host_memory.h"
#include "ops_cuda/gemm.h"
#include "ops_cuda/memory.h"
#include "tensor/dispatch.h"

namespace gs {

bool cuda_available() { return cuda::available(); }
int cuda_device_count() { return cuda::device_count(); }
bool cuda_built() {
#ifdef GRADSCOPE_WITH_CUDA
  return true;
#else
  return false;
#endif
}

bool cuda_emulated() {
#ifdef GRADSCOPE_CUDA_EMULATED
  return true;
#else
  return false;
#endif
}

int64_t cpu_cached_bytes() { return static_cast<int64_t>(cpu::host_cache_stats().cached); }
void cpu_empty_cache() { cpu::host_empty_cache(); }

CudaMemoryStats cuda_memory_stats() {
  const cuda::MemoryStats s = cuda::memory_stats();
  CudaMemoryStats out;
  out.bytes_in_use = static_cast<int64_t>(s.in_use);
  out.peak_bytes = static_cast<int64_t>(s.peak);
  out.cached_bytes = static_cast<int64_t>(s.cached);
  out.reserved_bytes = static_cast<int64_t>(s.reserved);
  out.device_mallocs = static_cast<int64_t>(s.device_mallocs);
  out.cache_hits = static_cast<int64_t>(s.cache_hits);
  return out;
}

void cuda_reset_peak_memory() { cuda::reset_peak_memory(); }
void cuda_empty_cache() { detail::cuda_call([] { cuda::empty_cache(); }); }
void cuda_synchronize() { detail::cuda_call([] { cuda::synchronize(); }); }
std::string cuda_device_name() { return detail::cuda_call([] { return cuda::device_name(); }); }

bool set_allow_tf32(bool allow) { return cuda::allow_tf32(allow); }
bool tf32_allowed() { return cuda::tf32_allowed(); }

}  // namespace gs
