#pragma once
// Internal to ops_cuda: the one stream, the library handles, and scratch buffers.
// Everything in the backend runs on stream(): every kernel, every cuBLAS/cuSOLVER call and every
// copy. Work on one stream executes in issue order, which is what makes the caching allocator
// safe: a block freed by the host after its last kernel was queued can be handed to the next
// allocation immediately, because any kernel that uses it is queued behind the old ones.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <cstddef>

namespace gs::cuda::detail {

// Created on first use (device 0, or the device current when first called); "op" names the
// caller in the error raised if the device cannot be initialised. Thread-safe.
cudaStream_t stream(const char* op);
cublasHandle_t cublas(const char* op);      // bound to stream(); math mode per allow_tf32()
cusolverDnHandle_t cusolver(const char* op);  // bound to stream(); created on first use

// Scratch memory from the caching allocator, returned to it on destruction. Safe to destroy
// right after queueing the kernels that use it (single stream, see above).
class DeviceBuffer {
 public:
  DeviceBuffer(const char* op, size_t nbytes);
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }
  void* get() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
  size_t nbytes_ = 0;
};

// Allocation with the caller's op name in the error message (device_alloc uses "device_alloc").
void* alloc_for(const char* op, size_t nbytes);

}  // namespace gs::cuda::detail
