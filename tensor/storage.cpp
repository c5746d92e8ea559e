#include "tensor/storage.h"

#include <atomic>
#include <cstdlib>
#include <new>

#include "ops_cpu/host_memory.h"
#include "ops_cpu/threads.h"
#include "ops_cuda/memory.h"
#include "tensor/error.h"

namespace gs {
namespace {
std::atomic<int64_t> g_live[2];
std::atomic<int64_t> g_peak[2];
}

int64_t Storage::live_bytes(Device device) { return g_live[static_cast<int>(device)].load(); }
int64_t Storage::peak_bytes(Device device) { return g_peak[static_cast<int>(device)].load(); }
void Storage::reset_peak(Device device) {
  const int d = static_cast<int>(device);
  g_peak[d].store(g_live[d].load());
}

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
  // The first tensor applies GRADSCOPE_NUM_THREADS to both thread pools (OpenBLAS, OpenMP), so
  // the knob works whichever kernel runs first.
  static const int threads_applied = cpu::num_threads();
  (void)threads_applied;
  void* p = nullptr;
  if (device == Device::CPU) {
    try {
      p = cpu::host_alloc(nbytes);
    } catch (const std::exception& e) {  // gs::Error is the tensor layer's one exception type
      throw Error(e.what());
    }
  } else {
    p = cuda::device_alloc(nbytes);
  }
  const int d = static_cast<int>(device);
  const int64_t now = g_live[d] += static_cast<int64_t>(nbytes);
  int64_t peak = g_peak[d].load();
  while (now > peak && !g_peak[d].compare_exchange_weak(peak, now)) {
  }
  try {
    return std::make_shared<Storage>(Key{}, p, nbytes, device);
  } catch (...) {  // the object's block failed: give the buffer back and undo the count
    g_live[d] -= static_cast<int64_t>(nbytes);
    if (device == Device::CPU) cpu::host_free(p, nbytes);
    else cuda::device_free(p, nbytes);
    throw;
  }
}

Storage::~Storage() {
  g_live[static_cast<int>(device_)] -= static_cast<int64_t>(nbytes_);
  if (device_ == Device::CPU) cpu::host_free(data_, nbytes_);
  else cuda::device_free(data_, nbytes_);
}

}  // namespace gs
