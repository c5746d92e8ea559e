#pragma once
// Shared by the stub entries of a build without CUDA.
#include <stdexcept>
#include <string>

namespace gs::cuda::detail {

[[noreturn]] inline void no_cuda(const char* op) {
  // ops_cuda sits below tensor/, so it cannot throw gs::Error; the tensor layer rethrows
  // std::runtime_error from the backend unchanged, and the message names the op.
  throw std::runtime_error(std::string(op) +
                           ": no CUDA implementation in this build (configure with -DGRADSCOPE_CUDA=ON)");
}

}  // namespace gs::cuda::detail
