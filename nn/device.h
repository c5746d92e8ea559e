#pragma once
// Moving a model between devices. Parameters and buffers are moved in place: every Tensor handle
// to them (the module's members, a tied head, an optimiser created afterwards) sees the new
// device, names and requires_grad stay. Gradients are cleared (they lived on the old device).
//
//   auto model = nn::make_language_model(cfg);   // built on the CPU
//   nn::to_device(*model, Device::CUDA);          // then: optimiser, training, as usual
//
// Inputs follow the weights: Embedding moves its indices and LanguageModel::loss its targets to
// the model's device, so token batches from nn::TokenStream (CPU) work unchanged.
// Errors: those of op::to, e.g. "to(cuda): no CUDA implementation in this build ...".
#include "nn/module.h"

namespace gs::nn {

void to_device(Module& m, Device device);
// The device of the module's first parameter (CPU for a module without parameters).
Device device_of(const Module& m);

}  // namespace gs::nn
