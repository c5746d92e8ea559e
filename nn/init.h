#pragma once
// Parameter initialisation, always from an explicit Generator so a run is reproducible bit for
// bit on one machine.
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace gs::nn::init {

Tensor normal(const Shape& shape, double std, Generator& gen, DType dtype = kFloat32);
// U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)); fans from the last two dims ([out, in]).
Tensor xavier_uniform(const Shape& shape, Generator& gen, double gain = 1.0, DType dtype = kFloat32);
// U(-b, b), b = gain * sqrt(3 / fan_in) (gain sqrt(2) for ReLU; gain 1/sqrt(3) gives PyTorch's
// default Linear bound 1 / sqrt(fan_in)).
Tensor kaiming_uniform(const Shape& shape, Generator& gen, double gain = 1.0, DType dtype = kFloat32);

}  // namespace gs::nn::init
