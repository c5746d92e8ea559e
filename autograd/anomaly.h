#pragma once
// Anomaly-mode checks (see grad_mode.h): throw naming the op and node when a tensor holds NaN/Inf.
#include <string>

#include "tensor/tensor.h"

namespace gs {

// Index of the first NaN/Inf element, or -1. Integer tensors are always finite.
int64_t first_non_finite(const Tensor& t);
void check_finite_forward(const char* op, const std::string& node_name, const Tensor& out);
void check_finite_backward(const std::string& op, const std::string& node_name, const char* what, const Tensor& g);

}  // namespace gs
