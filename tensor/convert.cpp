#include "tensor/convert.h"

#include "ops_cpu/copy.h"
#include "ops_cuda/copy.h"
#include "ops_cuda/memory.h"
#include "tensor/creation.h"
#include "tensor/dispatch.h"
#include "tensor/views.h"

namespace gs::op {
namespace {

// Copies src (any strides) into dst (contiguous, same shape) converting dtype on the way.
void strided_copy_into(const Tensor& src, const Tensor& dst) {
  const int nd = static_cast<int>(src.dim());
  if (nd > 16) fail("copy", "tensors of more than 16 dims are not supported, got ", shape_str(src.shape()));
  if (src.device() == Device::CUDA) {
    if (src.dtype() != dst.dtype()) {
      detail::dispatch_all(src.dtype(), [&]<class S>() {
        detail::dispatch_all(dst.dtype(), [&]<class D>() {
          detail::cuda_call([&] {
            cuda::strided_convert<S, D>(nd, src.shape().data(), src.data<S>(), src.strides().data(), dst.data<D>());
          });
        });
      });
      return;
    }
    detail::cuda_call([&] {
      cuda::strided_copy(nd, src.shape().data(), src.raw_data(), src.strides().data(),
                         static_cast<int>(dtype_size(src.dtype())), dst.raw_data());
    });
    return;
  }
  detail::dispatch_all(src.dtype(), [&]<class S>() {
    detail::dispatch_all(dst.dtype(), [&]<class D>() {
      cpu::strided_copy<S, D>(nd, src.shape().data(), src.data<S>(), src.strides().data(), dst.data<D>());
    });
  });
}

}  // namespace

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  return clone(x);
}

Tensor clone(const Tensor& x) {
  Tensor out = empty(x.shape(), x.dtype(), x.device());
  strided_copy_into(x, out);
  return out;
}

Tensor to(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Tensor out = empty(x.shape(), dtype, x.device());  // converted where it lives (CUDA: a device kernel)
  strided_copy_into(x, out);
  return out;
}

Tensor to(const Tensor& x, Device device) {
  if (x.device() == device) return x;
  Tensor src = contiguous(x);
  Tensor out = empty(x.shape(), x.dtype(), device);
  const size_t nbytes = static_cast<size_t>(x.numel()) * dtype_size(x.dtype());
  detail::cuda_call([&] {
    if (device == Device::CUDA) cuda::copy_to_device(out.raw_data(), src.raw_data(), nbytes);
    else cuda::copy_to_host(out.raw_data(), src.raw_data(), nbytes);
  });
  return out;
}

Tensor alias(const Tensor& x) {
  auto impl = std::make_shared<TensorImpl>(*x.impl());
  impl->autograd.reset();
  return Tensor(std::move(impl));
}

void copy_(const Tensor& dst, const Tensor& src) {
  if (dst.device() != src.device())
    fail("copy_", "destination on ", device_name(dst.device()), " but source on ", device_name(src.device()));
  Shape b = broadcast_shapes("copy_", src.shape(), dst.shape());
  if (b != dst.shape())
    fail("copy_", "source shape ", shape_str(src.shape()), " cannot be broadcast to ", shape_str(dst.shape()));
  if (dst.is_contiguous()) {
    strided_copy_into(expand(src, dst.shape()), dst);
    return;
  }
  for (int64_t d = 0; d < dst.dim(); ++d)
    if (dst.strides()[d] == 0 && dst.shape()[d] > 1)
      fail("copy_", "destination ", shape_str(dst.shape()), " is expanded (stride 0): writes would overlap");
  Tensor packed = clone(to(expand(src, dst.shape()), dst.dtype()));
  const int nd = static_cast<int>(dst.dim());
  if (dst.device() == Device::CUDA) {
    detail::cuda_call([&] {
      cuda::strided_scatter(nd, dst.shape().data(), packed.raw_data(), dst.raw_data(), dst.strides().data(),
                            static_cast<int>(dtype_size(dst.dtype())));
    });
    return;
  }
  detail::dispatch_all(dst.dtype(), [&]<class T>() {
    cpu::strided_scatter<T>(nd, dst.shape().data(), packed.data<T>(), dst.data<T>(), dst.strides().data());
  });
}

}  // namespace gs::op
