#pragma once
// Every differentiable op (namespace gs), plus the autograd API. What models are written with.
#include "autograd/engine.h"
#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/linalg.h"
#include "autograd/ops/shape.h"
#include "autograd/variable.h"
