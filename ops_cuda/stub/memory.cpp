// Stub backend: linked when gradscope is built without CUDA.
#include "ops_cuda/memory.h"
#include "ops_cuda/stub_message.h"

namespace gs::cuda {

bool available() { return false; }
int device_count() { return 0; }
void* device_alloc(size_t) { detail::no_cuda("to(cuda)"); }
void device_free(void*, size_t) noexcept {}
void copy_to_device(void*, const void*, size_t) { detail::no_cuda("to(cuda)"); }
void copy_to_host(void*, const void*, size_t) { detail::no_cuda("to(cpu)"); }
void copy_on_device(void*, const void*, size_t) { detail::no_cuda("copy"); }
MemoryStats memory_stats() { return {}; }  // no device, nothing allocated
void reset_peak_memory() {}
void empty_cache() {}
void synchronize() { detail::no_cuda("synchronize"); }
std::string device_name() { detail::no_cuda("device_name"); }

}  // namespace gs::cuda
