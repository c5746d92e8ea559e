// Device, stream, library handles, caching allocator and copies (ops_cuda/memory.h,
// ops_cuda/context.h).
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "ops_cuda/check.h"
#include "ops_cuda/context.h"
#include "ops_cuda/memory.h"

namespace gs::cuda {
namespace {

// ---- context: one stream and the library handles --------------------------------------------
struct Context {
  cudaStream_t stream = nullptr;
  std::mutex mu;  // guards the lazily created handles
  cublasHandle_t cublas = nullptr;
  cusolverDnHandle_t cusolver = nullptr;
};

void shutdown_at_exit();

Context* make_context(const char* op) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) detail::throw_failure(op, "cudaGetDeviceCount", cudaGetErrorString(e));
  if (n == 0) detail::throw_failure(op, "cudaGetDeviceCount", "no CUDA device is present");
  auto* c = new Context;  // never deleted: it must outlive static tensors freed at exit
  GS_CUDA_CHECK(op, cudaStreamCreateWithFlags(&c->stream, cudaStreamDefault));
  // Registered after the runtime is initialised, so it runs before the runtime's own teardown.
  std::atexit(shutdown_at_exit);
  return c;
}

Context& context(const char* op) {
  static Context* c = make_context(op);  // a throw leaves it uninitialised: the next call retries
  return *c;
}

// ---- caching allocator ------------------------------------------------------------------------
// Size classes: powers of two from 512 B to 1 MiB; above that, eight classes per power of two
// (a block wastes less than 12.5%). A freed block goes to its class's free list.
size_t size_class(size_t nbytes) {
  const size_t req = nbytes > 0 ? nbytes : 1;
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

struct Live {
  size_t cls;
  size_t req;
};

struct Allocator {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free_lists;
  std::unordered_map<void*, Live> live;
  MemoryStats stats;
  bool shut_down = false;

  // Caller holds mu. Returns every cached block to the driver, after the stream has drained
  // (a cached block may still be read by a kernel queued before it was freed).
  void release_cached(bool ignore_errors) {
    bool any = false;
    for (auto& fl : free_lists) any = any || !fl.second.empty();
    if (!any) return;
    const cudaError_t sync = cudaDeviceSynchronize();
    if (sync != cudaSuccess && !ignore_errors)
      detail::throw_failure("empty_cache", "cudaDeviceSynchronize", cudaGetErrorString(sync));
    for (auto& [cls, blocks] : free_lists) {
      for (void* p : blocks) {
        const cudaError_t e = cudaFree(p);
        if (e != cudaSuccess && !ignore_errors) detail::throw_failure("empty_cache", "cudaFree", cudaGetErrorString(e));
        stats.reserved -= cls;
        stats.cached -= cls;
      }
      blocks.clear();
    }
  }
};

Allocator& allocator() {
  static auto* a = new Allocator;  // never deleted, like the context
  return *a;
}

void shutdown_at_exit() {
  Allocator& a = allocator();
  {
    std::lock_guard<std::mutex> lock(a.mu);
    if (a.shut_down) return;
    a.release_cached(/*ignore_errors=*/true);
    a.shut_down = true;
  }
  Context& c = context("exit");
  std::lock_guard<std::mutex> lock(c.mu);
  // Errors are ignored here: the process is ending and there is no one left to tell.
  if (c.cublas) (void)cublasDestroy(c.cublas);
  if (c.cusolver) (void)cusolverDnDestroy(c.cusolver);
  c.cublas = nullptr;
  c.cusolver = nullptr;
}

}  // namespace

// ---- internal API (ops_cuda/context.h) -------------------------------------------------------
namespace detail {

cudaStream_t stream(const char* op) { return context(op).stream; }

cublasHandle_t cublas(const char* op) {
  Context& c = context(op);
  std::lock_guard<std::mutex> lock(c.mu);
  if (!c.cublas) {
    cublasHandle_t h = nullptr;
    GS_CUBLAS_CHECK(op, cublasCreate(&h));
    const cublasStatus_t s = cublasSetStream(h, c.stream);
    if (s != CUBLAS_STATUS_SUCCESS) {
      (void)cublasDestroy(h);
      throw_failure(op, "cublasSetStream", cublasGetStatusString(s));
    }
    c.cublas = h;
  }
  return c.cublas;
}

cusolverDnHandle_t cusolver(const char* op) {
  Context& c = context(op);
  std::lock_guard<std::mutex> lock(c.mu);
  if (!c.cusolver) {
    cusolverDnHandle_t h = nullptr;
    GS_CUSOLVER_CHECK(op, cusolverDnCreate(&h));
    const cusolverStatus_t s = cusolverDnSetStream(h, c.stream);
    if (s != CUSOLVER_STATUS_SUCCESS) {
      (void)cusolverDnDestroy(h);
      throw_failure(op, "cusolverDnSetStream", cusolver_status_string(s));
    }
    c.cusolver = h;
  }
  return c.cusolver;
}

void* alloc_for(const char* op, size_t nbytes) {
  (void)context(op);  // device and stream exist before the first block
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mu);
  const size_t cls = size_class(nbytes);
  void* p = nullptr;
  auto it = a.free_lists.find(cls);
  if (it != a.free_lists.end() && !it->second.empty()) {
    p = it->second.back();
    it->second.pop_back();
    a.stats.cached -= cls;
    ++a.stats.cache_hits;
  } else {
    cudaError_t e = cudaMalloc(&p, cls);
    if (e == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();  // clear it, give the cache back to the driver, try once more
      a.release_cached(/*ignore_errors=*/false);
      e = cudaMalloc(&p, cls);
    }
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      throw std::runtime_error(std::string(op) + ": cudaMalloc failed: " + cudaGetErrorString(e) + " (" +
                               std::to_string(nbytes) + " bytes requested, " + std::to_string(a.stats.in_use) +
                               " in use)");
    }
    a.stats.reserved += cls;
    ++a.stats.device_mallocs;
  }
  a.live.emplace(p, Live{cls, nbytes});
  a.stats.in_use += nbytes;
  if (a.stats.in_use > a.stats.peak) a.stats.peak = a.stats.in_use;
  return p;
}

DeviceBuffer::DeviceBuffer(const char* op, size_t nbytes) : ptr_(alloc_for(op, nbytes)), nbytes_(nbytes) {}
DeviceBuffer::~DeviceBuffer() { device_free(ptr_, nbytes_); }

}  // namespace detail

// ---- public API (ops_cuda/memory.h) ----------------------------------------------------------
int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // no driver / no device: not an error for a query
    return 0;
  }
  return n;
}

bool available() { return device_count() > 0; }

void* device_alloc(size_t nbytes) { return detail::alloc_for("device_alloc", nbytes); }

void device_free(void* p, size_t /*nbytes: the allocator's own record is used*/) noexcept {
  if (!p) return;
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mu);
  auto it = a.live.find(p);
  if (it == a.live.end()) return;  // not ours (or freed twice): nothing safe to do in noexcept
  const Live b = it->second;
  a.live.erase(it);
  a.stats.in_use -= b.req;
  if (a.shut_down) {  // after exit teardown: hand it straight back, ignoring errors
    (void)cudaFree(p);
    a.stats.reserved -= b.cls;
    return;
  }
  try {
    a.free_lists[b.cls].push_back(p);
    a.stats.cached += b.cls;
  } catch (...) {  // the free list could not grow: give the block back instead
    (void)cudaFree(p);
    a.stats.reserved -= b.cls;
  }
}

void copy_to_device(void* dst, const void* src, size_t nbytes) {
  if (nbytes == 0) return;
  cudaStream_t s = detail::stream("to(cuda)");
  GS_CUDA_CHECK("to(cuda)", cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, s));
  // The host buffer may be freed as soon as we return.
  GS_CUDA_CHECK("to(cuda)", cudaStreamSynchronize(s));
}

void copy_to_host(void* dst, const void* src, size_t nbytes) {
  if (nbytes == 0) return;
  cudaStream_t s = detail::stream("to(cpu)");
  GS_CUDA_CHECK("to(cpu)", cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, s));
  GS_CUDA_CHECK("to(cpu)", cudaStreamSynchronize(s));
}

void copy_on_device(void* dst, const void* src, size_t nbytes) {
  if (nbytes == 0) return;
  cudaStream_t s = detail::stream("copy");
  GS_CUDA_CHECK("copy", cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, s));
}

MemoryStats memory_stats() {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mu);
  return a.stats;
}

void reset_peak_memory() {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mu);
  a.stats.peak = a.stats.in_use;
}

void empty_cache() {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mu);
  a.release_cached(/*ignore_errors=*/false);
}

void synchronize() { GS_CUDA_CHECK("synchronize", cudaStreamSynchronize(detail::stream("synchronize"))); }

std::string device_name() {
  (void)context("device_name");
  int dev = 0;
  GS_CUDA_CHECK("device_name", cudaGetDevice(&dev));
  cudaDeviceProp prop{};
  GS_CUDA_CHECK("device_name", cudaGetDeviceProperties(&prop, dev));
  return prop.name;
}

}  // namespace gs::cuda
