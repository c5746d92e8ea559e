#pragma once
// Tensor creation. All random creation takes an explicit Generator: no hidden global seed.
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "tensor/random.h"
#include "tensor/tensor.h"

namespace gs {

Tensor empty(const Shape& shape, DType dtype = kFloat32, Device device = Device::CPU);
Tensor zeros(const Shape& shape, DType dtype = kFloat32, Device device = Device::CPU);
Tensor ones(const Shape& shape, DType dtype = kFloat32, Device device = Device::CPU);
Tensor full(const Shape& shape, double value, DType dtype = kFloat32, Device device = Device::CPU);
Tensor scalar(double value, DType dtype = kFloat32, Device device = Device::CPU);
// [start, end) in steps of step; "arange: step must be nonzero"
Tensor arange(double start, double end, double step = 1, DType dtype = kInt64);
Tensor arange(int64_t n, DType dtype = kInt64);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);

// From host data. shape must hold exactly values.size() elements ("from_vector: ...").
template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape);
template <class T>
Tensor from_vector(const std::vector<T>& values) {
  return from_vector(values, Shape{static_cast<int64_t>(values.size())});
}
// tensor({1, 2, 3}) and tensor({{1, 2}, {3, 4}}); float32 unless a dtype is given.
Tensor tensor(std::initializer_list<double> values, DType dtype = kFloat32);
Tensor tensor(std::initializer_list<std::initializer_list<double>> rows, DType dtype = kFloat32);

// Standard normal * std + mean, and uniform in [low, high).
Tensor randn(const Shape& shape, Generator& gen, DType dtype = kFloat32, double mean = 0, double std = 1);
Tensor uniform(const Shape& shape, Generator& gen, double low = 0, double high = 1, DType dtype = kFloat32);
// Integers uniform in [0, high).
Tensor randint(const Shape& shape, int64_t high, Generator& gen);

}  // namespace gs
