#include "ops_cpu/host_memory.h"

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace gs::cpu {
namespace {

struct HeapRaw {
  static constexpr const char* kAllocCall = "aligned_alloc";
  static constexpr const char* kFreeCall = "free";
  static constexpr const char* kDrainCall = "(nothing to wait for)";
  static gs::detail::RawStatus allocate(size_t bytes, void** p) {
    *p = std::aligned_alloc(64, bytes);  // bytes is a size class: a multiple of 512
    if (!*p) return {false, true, "out of memory"};
    return {};
  }
  static gs::detail::RawStatus release(void* p, size_t /*bytes*/) {
    std::free(p);
    return {};
  }
  static gs::detail::RawStatus drain() { return {}; }
};

// AddressSanitizer builds default to no cache: a recycled block would hide a use after free.
#if defined(__SANITIZE_ADDRESS__)
constexpr long long kDefaultCacheMb = 0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr long long kDefaultCacheMb = 0;
#else
constexpr long long kDefaultCacheMb = 2048;
#endif
#else
constexpr long long kDefaultCacheMb = 2048;
#endif

size_t cache_limit_from_env() {
  const char* env = std::getenv("GRADSCOPE_CPU_CACHE_MB");
  if (!env || !*env) return static_cast<size_t>(kDefaultCacheMb) << 20;
  char* end = nullptr;
  const long long mb = std::strtoll(env, &end, 10);
  if (*end != '\0' || mb < 0)
    throw std::invalid_argument(std::string("GRADSCOPE_CPU_CACHE_MB: '") + env +
                                "' is not a number of megabytes (>= 0; 0 turns the cache off)");
  return static_cast<size_t>(mb) << 20;
}

gs::detail::CachingAllocator<HeapRaw>& cache() {
  // Never deleted: tensors in static storage are freed after every destructor of this file ran.
  static auto* a = [] {
    auto* c = new gs::detail::CachingAllocator<HeapRaw>;
    c->set_cache_limit(cache_limit_from_env());
    return c;
  }();
  return *a;
}

}  // namespace

void* host_alloc(size_t nbytes) {
  if (nbytes >= kHostCacheMinBytes) {
    try {
      return cache().alloc("allocate", nbytes);
    } catch (const std::invalid_argument&) {
      throw;  // a bad GRADSCOPE_CPU_CACHE_MB
    } catch (const std::runtime_error&) {
      throw std::runtime_error("allocate: out of memory allocating " + std::to_string(nbytes) + " bytes on cpu");
    }
  }
  const size_t rounded = (nbytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded > 0 ? rounded : 64);
  if (!p) throw std::runtime_error("allocate: out of memory allocating " + std::to_string(nbytes) + " bytes on cpu");
  return p;
}

void host_free(void* p, size_t nbytes) noexcept {
  if (nbytes >= kHostCacheMinBytes) cache().free(p);
  else std::free(p);
}

gs::detail::CacheStats host_cache_stats() { return cache().stats(); }
void host_empty_cache() { cache().empty_cache(); }
size_t host_cache_limit() { return cache().cache_limit(); }

}  // namespace gs::cpu
