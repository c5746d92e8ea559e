// The caching allocator behind CUDA storage (ops_common/caching_allocator.h) over a scripted raw
// backend: size classes, reuse, the statistics, the out-of-memory path (release the cache, retry
// once, then a clear error), errors that must not retry, unknown and double frees, and shutdown.
// The real backend (cudaMalloc) and the emulator (host heap) use this same class.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <set>
#include <string>

#include "ops_common/caching_allocator.h"
#include "ops_cpu/host_memory.h"
#include "tensor/creation.h"
#include "tensor/device.h"

using gs::detail::CachingAllocator;
using gs::detail::RawStatus;
using gs::detail::size_class;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// A raw backend with a byte budget and scripted failures; every call is counted.
struct FakeRaw {
  static constexpr const char* kAllocCall = "fakeMalloc";
  static constexpr const char* kFreeCall = "fakeFree";
  static constexpr const char* kDrainCall = "fakeSync";
  static inline size_t capacity = 0, held = 0;
  static inline int allocs = 0, releases = 0, drains = 0;
  static inline bool fail_alloc_hard = false, fail_drain = false;
  static inline std::set<void*> blocks;

  static void reset(size_t cap) {
    capacity = cap;
    held = 0;
    allocs = releases = drains = 0;
    fail_alloc_hard = fail_drain = false;
    blocks.clear();
  }
  static RawStatus allocate(size_t bytes, void** p) {
    ++allocs;
    if (fail_alloc_hard) return {false, false, "device lost"};
    if (bytes > capacity - held) return {false, true, "out of memory"};
    *p = std::malloc(bytes);
    held += bytes;
    blocks.insert(*p);
    return {};
  }
  static RawStatus release(void* p, size_t bytes) {
    ++releases;
    CHECK(blocks.erase(p) == 1);  // only blocks it handed out, each once (CHECK: called from noexcept free)
    std::free(p);
    held -= bytes;
    return {};
  }
  static RawStatus drain() {
    ++drains;
    return fail_drain ? RawStatus{false, false, "launch failure"} : RawStatus{};
  }
};

}  // namespace

TEST_CASE("caching allocator: size classes are powers of two up to 1 MiB, then eighths", "[allocator]") {
  CHECK(size_class(0) == 512);
  CHECK(size_class(1) == 512);
  CHECK(size_class(512) == 512);
  CHECK(size_class(513) == 1024);
  CHECK(size_class(size_t{1} << 20) == size_t{1} << 20);
  CHECK(size_class((size_t{1} << 20) + 1) == (size_t{1} << 20) + (size_t{1} << 17));  // 1 MiB + 1/8 MiB
  CHECK(size_class(size_t{3} << 20) == size_t{3} << 20);                                  // 2 MiB + 4 eighths of 2 MiB
  // beyond any device: returned as is (the doubling loop would overflow and never end)
  CHECK(size_class((size_t{1} << 63) + 4) == (size_t{1} << 63) + 4);
  for (size_t req : {size_t{1} << 21, (size_t{1} << 21) + 1, size_t{5'000'000}, size_t{123'456'789}}) {
    INFO(req);
    const size_t c = size_class(req);
    CHECK(c >= req);
    CHECK(static_cast<double>(c - req) < 0.125 * static_cast<double>(req));  // wastes under 12.5%
  }
}

TEST_CASE("caching allocator: a freed block is reused for its size class, statistics follow", "[allocator]") {
  FakeRaw::reset(size_t{1} << 30);
  CachingAllocator<FakeRaw> a;
  void* p = a.alloc("t", 1000);  // class 1024
  auto s = a.stats();
  CHECK(s.in_use == 1000);
  CHECK(s.reserved == 1024);
  CHECK(s.device_mallocs == 1);
  a.free(p);
  s = a.stats();
  CHECK(s.in_use == 0);
  CHECK(s.cached == 1024);
  CHECK(s.peak == 1000);
  void* q = a.alloc("t", 600);  // same class: the cached block
  CHECK(q == p);
  CHECK(a.stats().cache_hits == 1);
  CHECK(FakeRaw::allocs == 1);
  void* r = a.alloc("t", 2000);  // another class: a new raw block
  CHECK(r != q);
  CHECK(FakeRaw::allocs == 2);
  s = a.stats();
  CHECK(s.in_use == 2600);
  CHECK(s.reserved == 1024 + 2048);
  CHECK(s.cached == 0);
  a.reset_peak();
  CHECK(a.stats().peak == 2600);
  a.free(q);
  a.free(r);
  a.empty_cache();
  s = a.stats();
  CHECK(s.cached == 0);
  CHECK(s.reserved == 0);
  CHECK(FakeRaw::held == 0);
  CHECK(FakeRaw::drains == 1);  // queued work drained once before the blocks went back
}

TEST_CASE("caching allocator: out of memory releases the cache, retries once, then fails clearly", "[allocator]") {
  FakeRaw::reset(4096);
  CachingAllocator<FakeRaw> a;
  void* small = a.alloc("t", 2048);
  a.free(small);  // 2048 cached, 2048 of the budget left
  void* big = a.alloc("t", 4096);  // needs the cached block's bytes: release, then retry
  CHECK(big != nullptr);
  CHECK(FakeRaw::drains == 1);
  CHECK(FakeRaw::releases == 1);
  CHECK(FakeRaw::allocs == 3);  // small, big (refused), big (after the release)
  auto s = a.stats();
  CHECK(s.cached == 0);
  CHECK(s.reserved == 4096);

  // nothing left to release: one clear error naming the op, the call, the status and the sizes
  REQUIRE_THROWS_WITH(a.alloc("matmul", 1000), StartsWith("matmul: fakeMalloc failed: out of memory") &&
                                                   Contains("1000 bytes requested, 4096 in use"));
  s = a.stats();
  CHECK(s.in_use == 4096);  // the failed call changed nothing
  CHECK(s.reserved == 4096);

  // an error that is not out-of-memory is not retried (the cache stays)
  a.free(big);
  FakeRaw::fail_alloc_hard = true;
  const int allocs = FakeRaw::allocs, drains = FakeRaw::drains;
  REQUIRE_THROWS_WITH(a.alloc("add", 100), StartsWith("add: fakeMalloc failed: device lost"));
  CHECK(FakeRaw::allocs == allocs + 1);
  CHECK(FakeRaw::drains == drains);
  CHECK(a.stats().cached == 4096);
  FakeRaw::fail_alloc_hard = false;
  a.empty_cache();
  CHECK(FakeRaw::held == 0);
}

TEST_CASE("caching allocator: failed drain, unknown and double frees, shutdown", "[allocator]") {
  FakeRaw::reset(size_t{1} << 20);
  CachingAllocator<FakeRaw> a;
  void* p = a.alloc("t", 100);
  a.free(p);
  FakeRaw::fail_drain = true;
  REQUIRE_THROWS_WITH(a.empty_cache(), "empty_cache: fakeSync failed: launch failure");
  CHECK(a.stats().cached == 512);  // nothing was given back while work might still use it
  FakeRaw::fail_drain = false;

  int dummy = 0;
  a.free(&dummy);  // not ours: ignored
  a.free(nullptr);
  void* q = a.alloc("t", 100);
  a.free(q);
  a.free(q);  // twice: the second is ignored
  CHECK(a.stats().cached == 512);
  CHECK(a.stats().in_use == 0);

  void* live = a.alloc("t", 100);
  CHECK(a.shutdown());
  CHECK_FALSE(a.shutdown());  // once only
  CHECK(a.stats().cached == 0);
  const int releases = FakeRaw::releases;
  a.free(live);  // after shutdown: straight back to the backend
  CHECK(FakeRaw::releases == releases + 1);
  CHECK(FakeRaw::held == 0);
  CHECK(a.stats().reserved == 0);
}

TEST_CASE("caching allocator: a freed block above the cache limit goes straight back", "[allocator]") {
  FakeRaw::reset(1 << 20);
  CachingAllocator<FakeRaw> a;
  a.set_cache_limit(3000);
  void* p = a.alloc("t", 2048);
  void* q = a.alloc("t", 1024);
  a.free(p);  // 2048 <= 3000: kept
  CHECK(a.stats().cached == 2048);
  a.free(q);  // 2048 + 1024 > 3000: released at once
  CHECK(a.stats().cached == 2048);
  CHECK(FakeRaw::releases == 1);
  CHECK(a.stats().reserved == 2048);
  a.set_cache_limit(0);  // a later free keeps nothing; what is cached stays until empty_cache
  void* r = a.alloc("t", 2048);  // served from the cache
  CHECK(a.stats().cache_hits == 1);
  a.free(r);
  CHECK(a.stats().cached == 0);
  CHECK(FakeRaw::held == 0);
}

TEST_CASE("CPU tensors: large buffers are reused from the host cache, small ones are not cached", "[allocator][tensor]") {
  gs::cpu_empty_cache();
  if (gs::cpu::host_cache_limit() < (size_t{2} << 20)) {  // cache off (AddressSanitizer build)
    { gs::Tensor big = gs::zeros({512, 512}); }
    CHECK(gs::cpu_cached_bytes() == 0);
    return;
  }
  const auto before = gs::cpu::host_cache_stats();
  {
    gs::Tensor big = gs::zeros({512, 512});  // 1 MiB
    gs::Tensor small = gs::zeros({16});
  }
  CHECK(gs::cpu_cached_bytes() >= 512 * 512 * 4);  // the 1 MiB buffer, kept
  const int64_t cached = gs::cpu_cached_bytes();
  {
    gs::Tensor again = gs::ones({512, 512});  // same size class: the cached buffer, no new allocation
    CHECK(gs::cpu::host_cache_stats().cache_hits == before.cache_hits + 1);
    CHECK(gs::cpu_cached_bytes() == cached - int64_t(gs::detail::size_class(512 * 512 * 4)));
    CHECK(again.to_vector<float>()[512 * 512 - 1] == 1.0f);  // filled, not stale
  }
  gs::cpu_empty_cache();
  CHECK(gs::cpu_cached_bytes() == 0);
}
