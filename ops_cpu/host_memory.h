#pragma once
// Host memory for CPU tensors. Buffers of at least kHostCacheMinBytes go through a caching
// allocator (ops_common/caching_allocator.h) over aligned_alloc: a freed buffer is kept for the next
// request of its size class, so a training step reuses the previous step's buffers instead of
// asking the kernel for fresh pages and faulting every one of them in again (that was ~20% of a
// GPT step's time here, and it serialises the threads on the address-space lock). Smaller
// buffers go straight to the C heap, which already reuses them without page faults.
//
// The cache holds at most GRADSCOPE_CPU_CACHE_MB megabytes (environment, read at the first
// allocation; default 2048, and 0 in AddressSanitizer builds so that a use after free stays
// visible; 0 turns caching off); host_empty_cache() hands every cached buffer back.
#include <cstddef>

#include "ops_common/caching_allocator.h"

namespace gs::cpu {

inline constexpr size_t kHostCacheMinBytes = size_t{64} << 10;

// 64-byte aligned, at least nbytes (0 gives a valid pointer). Throws std::runtime_error
// "allocate: out of memory allocating <n> bytes on cpu" when the heap refuses.
void* host_alloc(size_t nbytes);
// p from host_alloc with the same nbytes; noexcept.
void host_free(void* p, size_t nbytes) noexcept;

gs::detail::CacheStats host_cache_stats();  // the cached (>= kHostCacheMinBytes) buffers only
void host_empty_cache();
size_t host_cache_limit();  // bytes; 0 when caching is off

}  // namespace gs::cpu
