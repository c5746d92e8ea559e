#pragma once
// Tensor: a handle (shared ownership) to a TensorImpl = Storage + shape + strides + offset + dtype,
// plus optional autograd metadata that only autograd/ knows the inside of.
//
// The Tensor class holds accessors only. Operations are free functions:
//   gs::op::*  (tensor/ops.h)     plain tensor ops, no graph — used by kernels' callers and vjps
//   gs::*      (autograd/ops.h)   the same ops, differentiable — what models are written with
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "tensor/dtype.h"
#include "tensor/error.h"
#include "tensor/shape.h"
#include "tensor/storage.h"

namespace gs {

struct AutogradMeta;  // defined in autograd/meta.h

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;  // in elements; 0 on expanded dims
  int64_t offset = 0;  // in elements
  DType dtype = DType::Float32;
  std::shared_ptr<AutogradMeta> autograd;  // null for tensors outside any graph
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return checked().shape; }
  const Shape& strides() const { return checked().strides; }
  int64_t offset() const { return checked().offset; }
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return numel_of(shape()); }
  DType dtype() const { return checked().dtype; }
  Device device() const { return checked().storage->device(); }
  bool is_contiguous() const;
  bool is_scalar() const { return shape().empty(); }

  // Pointer to the first element. T must match dtype (throws "data: ..." otherwise).
  template <class T>
  T* data() const;
  void* raw_data() const;

  // The single element, converted to T; throws unless numel() == 1.
  template <class T = double>
  T item() const;
  // All elements in row-major order, converted to T (copies from the device if needed).
  template <class T = double>
  std::vector<T> to_vector() const;

  // "tensor([[...]], shape=[2, 3], dtype=float32)". Like NumPy: every element while numel() is at
  // most threshold; a larger tensor shows the first and last edge_items entries of each long dim.
  std::string to_string(int64_t threshold = 1000, int64_t edge_items = 3) const;

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  const TensorImpl& checked() const {
    if (!impl_) fail("tensor", "use of an undefined tensor");
    return *impl_;
  }
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace gs
