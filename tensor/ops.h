#pragma once
// Everything in the tensor layer: creation (gs::) and plain tensor ops without a graph (gs::op::).
#include "tensor/convert.h"
#include "tensor/creation.h"
#include "tensor/device.h"
#include "tensor/elementwise.h"
#include "tensor/linalg.h"
#include "tensor/random.h"
#include "tensor/reduce.h"
#include "tensor/tensor.h"
#include "tensor/views.h"
