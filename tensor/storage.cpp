#include "tensor/storage.h"

#include <atomic>
#include <cstdlib>
#include <new>

#include "ops_cuda/memory.h"
#include "tensor/error.h"

namespace gs {
namespace {
std::atomic<int64_t> g_live[2];
}

int64_t Storage::live_bytes(Device device) { return g_live[static_cast<int>(device)].load(); }

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
  void* p = nullptr;
  if (device == Device::CPU) {
    const size_t rounded = ((nbytes + 63) / 64) * 64;
    p = std::aligned_alloc(64, rounded > 0 ? rounded : 64);
    if (!p) fail("allocate", "out of memory allocating ", nbytes, " bytes on cpu");
  } else {
    p = cuda::device_alloc(nbytes);
  }
  g_live[static_cast<int>(device)] += static_cast<int64_t>(nbytes);
  return std::shared_ptr<Storage>(new Storage(p, nbytes, device));
}

Storage::~Storage() {
  g_live[static_cast<int>(device_)] -= static_cast<int64_t>(nbytes_);
  if (device_ == Device::CPU) std::free(data_);
  else cuda::device_free(data_, nbytes_);
}

}  // namespace gs
