#pragma once
// Storage: one refcounted buffer on one device. Tensors share it through std::shared_ptr;
// views (reshape, transpose, narrow, expand, ...) are new TensorImpls over the same Storage.
#include <cstddef>
#include <memory>

#include "tensor/dtype.h"

namespace gs {

class Storage {
 public:
  // Allocates nbytes on device (CPU: 64-byte aligned, so kernels may vectorise freely).
  static std::shared_ptr<Storage> allocate(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  // Bytes held by all live Storage objects on a device (leak tests, memory reports).
  static int64_t live_bytes(Device device = Device::CPU);
  // High-water mark of live_bytes(device) since start or the last reset_peak(device), which sets
  // it to the current live_bytes (bench/bench_cross_entropy.cpp measures peak memory with it).
  static int64_t peak_bytes(Device device = Device::CPU);
  static void reset_peak(Device device = Device::CPU);

 private:
  // Only allocate() makes a Storage; the key keeps the constructor public for std::make_shared
  // (one heap block for the object and its reference count) and unusable elsewhere.
  struct Key {
    explicit Key() = default;
  };

 public:
  Storage(Key, void* data, size_t nbytes, Device device) : data_(data), nbytes_(nbytes), device_(device) {}

 private:
  void* data_;
  size_t nbytes_;
  Device device_;
};

}  // namespace gs
