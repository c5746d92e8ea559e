#pragma once
// Shared by the stub entries of a build without CUDA (ops_cuda/stub/).
#include <stdexcept>
#include <string>

#include "ops_common/contract.h"  // GS_UNPAREN

namespace gs::cuda::detail {

[[noreturn]] inline void no_cuda(const char* op) {
  // ops_cuda sits below tensor/, so it cannot throw gs::Error; the tensor layer rethrows
  // std::runtime_error from the backend unchanged, and the message names the op.
  throw std::runtime_error(std::string(op) +
                           ": no CUDA implementation in this build (configure with -DGRADSCOPE_CUDA=ON)");
}

}  // namespace gs::cuda::detail

// One throwing definition per entry of a kernel family's list (ops_common/contract.h), e.g.
//   template <class T> void fill(int64_t n, T value, T* dst) { no_cuda("fill"); }
// The parameters are named (they come from the contract) and unused: the stub's sources turn off
// -Wunused-parameter. no_cuda never returns, so non-void entries need no return statement.
#define GS_KERNEL_STUB(TPARAMS, RET, NAME, STUB_OP, PARAMS) \
  template <GS_UNPAREN TPARAMS>                             \
  RET NAME PARAMS {                                         \
    ::gs::cuda::detail::no_cuda(STUB_OP);                   \
  }
