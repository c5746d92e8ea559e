#pragma once
// The size-class caching allocator behind both backends' storage, as plain C++ over a "raw memory"
// backend: CUDA's device_alloc/device_free (ops_cuda/memory.cu: raw blocks from cudaMalloc), the
// host emulator (tests/cuda_emulator/memory.cpp) and CPU tensors' large buffers (ops_cpu/
// host_memory.cpp: raw blocks from aligned_alloc, so that a training step reuses the previous
// step's buffers instead of taking fresh pages from the kernel and faulting them in again).
//
// A freed block goes to the free list of its size class and is handed to the next request of that
// class (on CUDA safe on one stream: see ops_cuda/context.h). Cached blocks go back to the raw
// backend on empty_cache(), when a raw allocation runs out of memory (then it is retried once), at
// exit, and at once when keeping them would take the cache above its limit (set_cache_limit).
//
// Raw must provide (static members):
//   const char* kAllocCall, kFreeCall, kDrainCall;   // call names used in error messages
//   RawStatus allocate(size_t bytes, void** p);       // a new block of exactly `bytes`
//   RawStatus release(void* p, size_t bytes);         // give a block (of `bytes`) back
//   RawStatus drain();                                // wait until no queued work can use a block
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace gs::detail {

// Allocator statistics, in bytes.
struct CacheStats {
  size_t in_use = 0;            // requested bytes of live allocations (alloc minus free)
  size_t peak = 0;              // high-water mark of in_use since start or reset_peak()
  size_t reserved = 0;          // bytes held from the raw backend: live blocks + cached blocks (size classes)
  size_t cached = 0;            // bytes in free lists, ready for reuse
  uint64_t device_mallocs = 0;  // raw allocations made (cache misses): cudaMalloc, or aligned_alloc on the host
  uint64_t cache_hits = 0;      // alloc calls served from a free list
};

struct RawStatus {
  bool ok = true;
  bool out_of_memory = false;  // allocate only: worth retrying after the cache is released
  const char* message = "";    // the backend's status string when !ok: static text, so that
                               // reporting a failure never allocates (free() is noexcept)
};

// Size classes: powers of two from 512 B to 1 MiB; above that, eight classes per power of two
// (a block wastes less than 12.5%).
inline size_t size_class(size_t nbytes) {
  const size_t req = nbytes > 0 ? nbytes : 1;
  // No device holds 2^62 bytes; above that, no rounding (doubling p below would overflow and
  // never end): the raw backend refuses the request with its own out-of-memory error.
  if (req > (size_t{1} << 62)) return req;
  constexpr size_t kSmall = size_t{1} << 20;
  if (req <= kSmall) {
    size_t c = 512;
    while (c < req) c <<= 1;
    return c;
  }
  size_t p = kSmall;
  while (p * 2 <= req) p <<= 1;  // p = largest power of two <= req
  const size_t step = p / 8;
  return (req + step - 1) / step * step;
}

template <class Raw>
class CachingAllocator {
 public:
  // A block of at least nbytes. Throws std::runtime_error("<op>: <alloc call> failed: <status>
  // (<n> bytes requested, <m> in use)") when the raw backend cannot provide one.
  void* alloc(const char* op, size_t nbytes) {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t cls = size_class(nbytes);
    void* p = nullptr;
    auto it = free_lists_.find(cls);
    if (it != free_lists_.end() && !it->second.empty()) {
      p = it->second.back();
      it->second.pop_back();
      stats_.cached -= cls;
      ++stats_.cache_hits;
    } else {
      RawStatus s = Raw::allocate(cls, &p);
      if (!s.ok && s.out_of_memory) {  // give the cache back to the backend, try once more
        release_cached(/*ignore_errors=*/false);
        s = Raw::allocate(cls, &p);
      }
      if (!s.ok)
        throw std::runtime_error(std::string(op) + ": " + Raw::kAllocCall + " failed: " + s.message + " (" +
                                 std::to_string(nbytes) + " bytes requested, " + std::to_string(stats_.in_use) +
                                 " in use)");
      stats_.reserved += cls;
      ++stats_.device_mallocs;
    }
    try {
      live_.emplace(p, Live{cls, nbytes});
    } catch (...) {  // no host memory for the record: give the block back rather than leak it
      (void)Raw::release(p, cls);
      stats_.reserved -= cls;
      throw;
    }
    stats_.in_use += nbytes;
    if (stats_.in_use > stats_.peak) stats_.peak = stats_.in_use;
    return p;
  }

  // Back to its class's free list (straight to the backend after shutdown()). A pointer this
  // allocator did not hand out, or one freed twice, is ignored: nothing safe to do in noexcept.
  void free(void* p) noexcept {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    if (it == live_.end()) return;
    const Live b = it->second;
    live_.erase(it);
    stats_.in_use -= b.req;
    if (shut_down_) {  // after exit teardown: hand it straight back, ignoring errors
      (void)Raw::release(p, b.cls);
      stats_.reserved -= b.cls;
      return;
    }
    if (stats_.cached + b.cls > cache_limit_) {  // over the limit: not kept
      (void)Raw::release(p, b.cls);
      stats_.reserved -= b.cls;
      return;
    }
    try {
      free_lists_[b.cls].push_back(p);
      stats_.cached += b.cls;
    } catch (...) {  // the free list could not grow: give the block back instead
      (void)Raw::release(p, b.cls);
      stats_.reserved -= b.cls;
    }
  }

  CacheStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }
  void reset_peak() {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.peak = stats_.in_use;
  }
  // The most bytes the free lists may hold; a freed block that would exceed it goes straight back.
  void set_cache_limit(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    cache_limit_ = bytes;
  }
  size_t cache_limit() {
    std::lock_guard<std::mutex> lock(mu_);
    return cache_limit_;
  }
  // Every cached block back to the backend; throws "empty_cache: <call> failed: ..." on an error.
  void empty_cache() {
    std::lock_guard<std::mutex> lock(mu_);
    release_cached(/*ignore_errors=*/false);
  }
  // At exit: the cache is released (errors ignored) and later frees go straight to the backend.
  // Returns false when it had already run.
  bool shutdown() noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return false;
    try {
      release_cached(/*ignore_errors=*/true);
    } catch (...) {  // only a failed string allocation could get here; the process is ending
    }
    shut_down_ = true;
    return true;
  }

 private:
  struct Live {
    size_t cls;
    size_t req;
  };

  // Caller holds mu_. Drains first: a cached block may still be read by queued work.
  void release_cached(bool ignore_errors) {
    bool any = false;
    for (auto& fl : free_lists_) any = any || !fl.second.empty();
    if (!any) return;
    const RawStatus d = Raw::drain();
    if (!d.ok && !ignore_errors)
      throw std::runtime_error(std::string("empty_cache: ") + Raw::kDrainCall + " failed: " + d.message);
    for (auto& [cls, blocks] : free_lists_) {
      while (!blocks.empty()) {
        void* p = blocks.back();
        blocks.pop_back();
        const RawStatus r = Raw::release(p, cls);
        stats_.reserved -= cls;
        stats_.cached -= cls;
        if (!r.ok && !ignore_errors)
          throw std::runtime_error(std::string("empty_cache: ") + Raw::kFreeCall + " failed: " + r.message);
      }
    }
  }

  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_lists_;
  std::unordered_map<void*, Live> live_;
  CacheStats stats_;
  size_t cache_limit_ = SIZE_MAX;
  bool shut_down_ = false;
};

}  // namespace gs::detail
