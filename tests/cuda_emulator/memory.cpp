// Host emulator of the CUDA backend's memory (GRADSCOPE_CUDA=EMULATE; see kernels.cpp here):
// one "device" whose memory is the host heap, behind the same caching allocator as the real
// backend (ops_common/caching_allocator.h). Its capacity is half the memory the process may use,
// so that an impossible request fails the way cudaMalloc does (an error, not a crash). Copies are
// memcpy; there is no stream, so synchronize() has nothing to wait for.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "ops_common/caching_allocator.h"
#include "ops_cuda/memory.h"

namespace gs::cuda {
namespace {

// Half of the memory this process may use: the machine's RAM, or a container's cgroup v2 limit
// when that is lower (a request the kernel would later kill us for must fail here instead).
size_t capacity() {
  static const size_t bytes = [] {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    size_t total = pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) : size_t{1} << 33;
    std::ifstream limit("/sys/fs/cgroup/memory.max");  // "max" when unlimited
    unsigned long long cg = 0;
    if (limit >> cg && cg > 0 && cg < total) total = static_cast<size_t>(cg);
    return total / 2;
  }();
  return bytes;
}

struct HostRaw {
  // the real backend's call names, so that messages (and the tests of them) read the same; the
  // status strings say "emulated"
  static constexpr const char* kAllocCall = "cudaMalloc";
  static constexpr const char* kFreeCall = "cudaFree";
  static constexpr const char* kDrainCall = "cudaDeviceSynchronize";
  static inline size_t held = 0;  // raw bytes taken from the heap; guarded by the allocator's lock

  static gs::detail::RawStatus allocate(size_t bytes, void** p) {
    if (bytes > capacity() - held) return {false, true, "out of memory (emulated device)"};
    *p = std::aligned_alloc(256, bytes);  // bytes is a size class: a multiple of 512
    if (!*p) return {false, true, "out of memory (emulated device: the host heap refused)"};
    held += bytes;
    return {};
  }
  static gs::detail::RawStatus release(void* p, size_t bytes) {
    std::free(p);
    held -= bytes;
    return {};
  }
  static gs::detail::RawStatus drain() { return {}; }
};

gs::detail::CachingAllocator<HostRaw>& allocator() {
  static auto* a = new gs::detail::CachingAllocator<HostRaw>;  // never deleted: outlives static tensors
  return *a;
}

}  // namespace

bool available() { return true; }
int device_count() { return 1; }
void* device_alloc(size_t nbytes) { return allocator().alloc("device_alloc", nbytes); }
void device_free(void* p, size_t /*nbytes*/) noexcept { allocator().free(p); }
void copy_to_device(void* dst, const void* src, size_t nbytes) {
  if (nbytes > 0) std::memcpy(dst, src, nbytes);
}
void copy_to_host(void* dst, const void* src, size_t nbytes) {
  if (nbytes > 0) std::memcpy(dst, src, nbytes);
}
void copy_on_device(void* dst, const void* src, size_t nbytes) {
  if (nbytes > 0) std::memmove(dst, src, nbytes);
}
MemoryStats memory_stats() { return allocator().stats(); }
void reset_peak_memory() { allocator().reset_peak(); }
void empty_cache() { allocator().empty_cache(); }
void synchronize() {}
std::string device_name() { return "gradscope CUDA emulator (host memory, CPU kernels)"; }

}  // namespace gs::cuda
