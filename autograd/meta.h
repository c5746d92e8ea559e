#pragma once
// The autograd side of a tensor (tensor/ only forward-declares it).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace gs {

struct Node;

// A hook sees the full gradient of its tensor during backward and may replace it.
using GradHook = std::function<std::optional<Tensor>(const Tensor& grad)>;

struct AutogradMeta {
  bool requires_grad = false;
  bool retains_grad = false;       // keep .grad on a non-leaf (retain_grad())
  Tensor grad;                     // accumulated gradient (leaves, or retained non-leaves)
  std::shared_ptr<Node> grad_fn;   // null for leaves
  std::vector<GradHook> hooks;
  std::string name;                // leaf name, e.g. "blocks.0.attn.q.weight"
  // Forward mode (autograd/jvp.h): the tangent of this tensor inside the jvp() call numbered
  // tangent_level. Only that call reads it, so a tensor kept from a finished call carries nothing
  // that a later call could mistake for its own.
  Tensor tangent;
  uint64_t tangent_level = 0;
};

}  // namespace gs
