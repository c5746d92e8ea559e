// Device, stream, library handles, caching allocator and copies (ops_cuda/memory.h,
// ops_cuda/context.h).
#include <cstdlib>
#include <mutex>

#include "ops_common/caching_allocator.h"
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

// ---- caching allocator (ops_common/caching_allocator.h) over cudaMalloc --------------------------
struct CudaRaw {
  static constexpr const char* kAllocCall = "cudaMalloc";
  static constexpr const char* kFreeCall = "cudaFree";
  static constexpr const char* kDrainCall = "cudaDeviceSynchronize";
  static gs::detail::RawStatus status(cudaError_t e) {
    if (e == cudaSuccess) return {};
    (void)cudaGetLastError();  // reset the last-error state, so the next call does not report it
    return {false, e == cudaErrorMemoryAllocation, cudaGetErrorString(e)};
  }
  static gs::detail::RawStatus allocate(size_t bytes, void** p) { return status(cudaMalloc(p, bytes)); }
  static gs::detail::RawStatus release(void* p, size_t /*bytes*/) { return status(cudaFree(p)); }
  static gs::detail::RawStatus drain() { return status(cudaDeviceSynchronize()); }
};

using Allocator = gs::detail::CachingAllocator<CudaRaw>;

Allocator& allocator() {
  static auto* a = new Allocator;  // never deleted, like the context
  return *a;
}

void shutdown_at_exit() {
  if (!allocator().shutdown()) return;
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
  return allocator().alloc(op, nbytes);
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

void device_free(void* p, size_t /*nbytes: the allocator's own record is used*/) noexcept { allocator().free(p); }

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

MemoryStats memory_stats() { return allocator().stats(); }
void reset_peak_memory() { allocator().reset_peak(); }
void empty_cache() { allocator().empty_cache(); }

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
