#include "tensor/device.h"

#include "ops_cuda/memory.h"

namespace gs {

bool cuda_available() { return cuda::available(); }
int cuda_device_count() { return cuda::device_count(); }
bool cuda_built() {
#ifdef GRADSCOPE_WITH_CUDA
  return true;
#else
  return false;
#endif
}

}  // namespace gs
