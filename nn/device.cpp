#include "nn/device.h"

#include "autograd/variable.h"
#include "tensor/ops.h"

namespace gs::nn {
namespace {

// Points t's TensorImpl at a packed copy on `device`. The impl itself stays, so every handle
// sharing it (module members, tied weights) moves together; autograd metadata stays too.
void move_in_place(const Tensor& t, Device device) {
  if (t.device() == device) return;  // also a tensor listed twice (tied weights): moved once
  const Tensor moved = op::to(t, device);
  TensorImpl* impl = t.impl();
  impl->storage = moved.impl()->storage;
  impl->strides = moved.strides();
  impl->offset = moved.offset();
}

}  // namespace

void to_device(Module& m, Device device) {
  m.zero_grad();
  for (const auto& [_, t] : m.named_parameters()) move_in_place(t, device);
  for (const auto& [_, t] : m.named_buffers()) move_in_place(t, device);
}

Device device_of(const Module& m) {
  const NamedTensors p = m.named_parameters();
  return p.empty() ? Device::CPU : p.front().second.device();
}

}  // namespace gs::nn
