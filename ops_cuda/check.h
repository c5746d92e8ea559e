#pragma once
// Internal to ops_cuda (included by the .cu files only): every CUDA runtime, cuBLAS and
// cuSOLVER call goes through one of these macros, which throw
//   std::runtime_error("<op>: <call> failed: <status string>")
// e.g. "matmul: cublasSgemm_v2_64 failed: CUBLAS_STATUS_INVALID_VALUE". ops_cuda cannot see
// gs::Error; the tensor layer (detail::cuda_call) converts the runtime_error.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace gs::cuda::detail {

// "cudaMalloc(&p, n)" -> "cudaMalloc": the call's name without its arguments.
inline std::string call_name(std::string_view call) {
  const size_t paren = call.find('(');
  return std::string(call.substr(0, paren));
}

[[noreturn]] inline void throw_failure(const char* op, std::string_view call, const char* status) {
  throw std::runtime_error(std::string(op) + ": " + call_name(call) + " failed: " + status);
}

inline const char* cusolver_status_string(cusolverStatus_t s) {
  switch (s) {
    case CUSOLVER_STATUS_SUCCESS: return "CUSOLVER_STATUS_SUCCESS";
    case CUSOLVER_STATUS_NOT_INITIALIZED: return "CUSOLVER_STATUS_NOT_INITIALIZED";
    case CUSOLVER_STATUS_ALLOC_FAILED: return "CUSOLVER_STATUS_ALLOC_FAILED";
    case CUSOLVER_STATUS_INVALID_VALUE: return "CUSOLVER_STATUS_INVALID_VALUE";
    case CUSOLVER_STATUS_ARCH_MISMATCH: return "CUSOLVER_STATUS_ARCH_MISMATCH";
    case CUSOLVER_STATUS_EXECUTION_FAILED: return "CUSOLVER_STATUS_EXECUTION_FAILED";
    case CUSOLVER_STATUS_INTERNAL_ERROR: return "CUSOLVER_STATUS_INTERNAL_ERROR";
    case CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED: return "CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED";
    case CUSOLVER_STATUS_NOT_SUPPORTED: return "CUSOLVER_STATUS_NOT_SUPPORTED";
    default: return "cuSOLVER error (unknown status)";
  }
}

}  // namespace gs::cuda::detail

// CUDA runtime call: GS_CUDA_CHECK("op", cudaMemcpyAsync(...));
#define GS_CUDA_CHECK(op, call)                                                          \
  do {                                                                                   \
    const cudaError_t gs_status_ = (call);                                               \
    if (gs_status_ != cudaSuccess)                                                       \
      ::gs::cuda::detail::throw_failure(op, #call, cudaGetErrorString(gs_status_));      \
  } while (0)

// After a kernel launch: configuration errors (and earlier asynchronous faults) surface here.
#define GS_CUDA_CHECK_LAUNCH(op, kernel_name)                                            \
  do {                                                                                   \
    const cudaError_t gs_status_ = cudaGetLastError();                                   \
    if (gs_status_ != cudaSuccess)                                                       \
      ::gs::cuda::detail::throw_failure(op, kernel_name " launch",                       \
                                        cudaGetErrorString(gs_status_));                 \
  } while (0)

#define GS_CUBLAS_CHECK(op, call)                                                        \
  do {                                                                                   \
    const cublasStatus_t gs_status_ = (call);                                            \
    if (gs_status_ != CUBLAS_STATUS_SUCCESS)                                             \
      ::gs::cuda::detail::throw_failure(op, #call, cublasGetStatusString(gs_status_));   \
  } while (0)

#define GS_CUSOLVER_CHECK(op, call)                                                      \
  do {                                                                                   \
    const cusolverStatus_t gs_status_ = (call);                                          \
    if (gs_status_ != CUSOLVER_STATUS_SUCCESS)                                           \
      ::gs::cuda::detail::throw_failure(op, #call,                                       \
                                        ::gs::cuda::detail::cusolver_status_string(gs_status_)); \
  } while (0)
