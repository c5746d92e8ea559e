// Elementwise ops: forward and vjp side by side. Broadcasting is undone by op::sum_to.
#include "autograd/ops/elementwise.h"

#include "autograd/function.h"
#include "autograd/variable.h"
#include "tensor/creation.h"
#include "tensor/elementwise.h"
#include "tensor/reduce.h"

namespace gs {
namespace {

// Gradient for input `in` only if it takes part in the graph (saves work on constants).
bool needs(const Tensor& in) { return in.defined() && requires_grad_flag(in); }

Tensor unary_op(op::Unary kind, const Tensor& x) {
  Tensor y = op::unary(kind, x);
  return record(op::unary_name(kind), y, {x}, [kind, x = saved(x), y = saved(y)](const Tensor& g) {
    return grads(op::unary_backward(kind, x, y, g));
  });
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  return record("add", op::add(a, b), {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) {
    return grads(op::sum_to(g, sa), op::sum_to(g, sb));
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  return record("sub", op::sub(a, b), {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) {
    return grads(op::sum_to(g, sa), op::sum_to(op::neg(g), sb));
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  const bool ga = needs(a), gb = needs(b);
  return record("mul", op::mul(a, b), {a, b}, [a = saved(a), b = saved(b), ga, gb](const Tensor& g) {
    return grads(ga ? op::sum_to(op::mul(g, b), a.shape()) : Tensor(),
                 gb ? op::sum_to(op::mul(g, a), b.shape()) : Tensor());
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  const bool ga = needs(a), gb = needs(b);
  Tensor y = op::div(a, b);
  return record("div", y, {a, b}, [b = saved(b), y = saved(y), sa = a.shape(), ga, gb](const Tensor& g) {
    Tensor gq = op::div(g, b);  // d(a/b)/da = 1/b ; d(a/b)/db = -(a/b)/b
    return grads(ga ? op::sum_to(gq, sa) : Tensor(), gb ? op::sum_to(op::neg(op::mul(gq, y)), b.shape()) : Tensor());
  });
}

Tensor pow(const Tensor& a, const Tensor& b) {
  const bool ga = needs(a), gb = needs(b);
  Tensor y = op::pow(a, b);
  return record("pow", y, {a, b}, [a = saved(a), b = saved(b), y = saved(y), ga, gb](const Tensor& g) {
    // d(a^b)/da = b a^(b-1) ; d(a^b)/db = a^b log a
    Tensor da, db;
    if (ga) da = op::sum_to(op::mul(g, op::mul(b, op::pow(a, op::sub(b, 1.0)))), a.shape());
    if (gb) db = op::sum_to(op::mul(g, op::mul(y, op::log(a))), b.shape());
    return grads(da, db);
  });
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  return record("maximum", op::maximum(a, b), {a, b}, [a = saved(a), b = saved(b)](const Tensor& g) {
    Tensor take_b = op::gt(b, a);  // ties go to a
    Tensor zero = scalar(0, g.dtype(), g.device());
    return grads(op::sum_to(op::where(take_b, zero, g), a.shape()), op::sum_to(op::where(take_b, g, zero), b.shape()));
  });
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  return record("minimum", op::minimum(a, b), {a, b}, [a = saved(a), b = saved(b)](const Tensor& g) {
    Tensor take_b = op::lt(b, a);
    Tensor zero = scalar(0, g.dtype(), g.device());
    return grads(op::sum_to(op::where(take_b, zero, g), a.shape()), op::sum_to(op::where(take_b, g, zero), b.shape()));
  });
}

Tensor add(const Tensor& a, double b) {
  return record("add", op::add(a, b), {a}, [](const Tensor& g) { return grads(g); });
}
Tensor sub(const Tensor& a, double b) {
  return record("sub", op::sub(a, b), {a}, [](const Tensor& g) { return grads(g); });
}
Tensor mul(const Tensor& a, double b) {
  return record("mul", op::mul(a, b), {a}, [b](const Tensor& g) { return grads(op::mul(g, b)); });
}
Tensor div(const Tensor& a, double b) {
  return record("div", op::div(a, b), {a}, [b](const Tensor& g) { return grads(op::div(g, b)); });
}
Tensor pow(const Tensor& a, double b) {
  return record("pow", op::pow(a, b), {a}, [a = saved(a), b](const Tensor& g) {
    return grads(op::mul(g, op::mul(op::pow(a, b - 1.0), b)));
  });
}

Tensor neg(const Tensor& x) { return record("neg", op::neg(x), {x}, [](const Tensor& g) { return grads(op::neg(g)); }); }
Tensor exp(const Tensor& x) { return unary_op(op::Unary::exp, x); }
Tensor log(const Tensor& x) { return unary_op(op::Unary::log, x); }
Tensor sqrt(const Tensor& x) { return unary_op(op::Unary::sqrt, x); }
Tensor tanh(const Tensor& x) { return unary_op(op::Unary::tanh, x); }
Tensor sigmoid(const Tensor& x) { return unary_op(op::Unary::sigmoid, x); }
Tensor relu(const Tensor& x) { return unary_op(op::Unary::relu, x); }
Tensor gelu(const Tensor& x) { return unary_op(op::Unary::gelu, x); }
Tensor silu(const Tensor& x) { return unary_op(op::Unary::silu, x); }
Tensor abs(const Tensor& x) { return unary_op(op::Unary::abs, x); }

}  // namespace gs
