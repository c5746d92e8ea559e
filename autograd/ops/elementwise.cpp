// Elementwise ops: forward, vjp and jvp side by side. Broadcasting is undone by op::sum_to in a
// vjp and redone by broadcast_tangent in a jvp.
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

}  // namespace

Tensor unary_op(op::Unary kind, const Tensor& x) {
  Tensor y = op::unary(kind, x);
  return record(
      op::unary_name(kind), y, {x},
      [kind, x = saved(x), y = saved(y)](const Tensor& g) { return grads(op::unary_backward(kind, x, y, g)); },
      // the Jacobian is diagonal, f'(x): J v is the vjp's product with v in place of g
      [&](const std::vector<Tensor>& t) { return op::unary_backward(kind, x, y, t[0]); });
}

// add and sub without broadcasting (the common case) record a vjp that captures nothing, so
// std::function keeps it inline instead of allocating a block for two shapes; the gradients are
// the same as sum_to's, which returns g itself when the shapes agree.
Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = op::add(a, b);
  const Shape out = y.shape();
  auto jvp = [&](const std::vector<Tensor>& t) { return broadcast_tangent(add_tangents(t[0], t[1]), out); };
  if (a.shape() == out && b.shape() == out)
    return record("add", std::move(y), {a, b}, [](const Tensor& g) { return grads(g, g); }, jvp);
  return record(
      "add", std::move(y), {a, b},
      [sa = a.shape(), sb = b.shape()](const Tensor& g) { return grads(op::sum_to(g, sa), op::sum_to(g, sb)); },
      jvp);
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = op::sub(a, b);
  const Shape out = y.shape();
  auto jvp = [&](const std::vector<Tensor>& t) {
    return broadcast_tangent(add_tangents(t[0], t[1].defined() ? op::neg(t[1]) : Tensor()), out);
  };
  if (a.shape() == out && b.shape() == out)
    return record("sub", std::move(y), {a, b}, [](const Tensor& g) { return grads(g, op::neg(g)); }, jvp);
  return record(
      "sub", std::move(y), {a, b},
      [sa = a.shape(), sb = b.shape()](const Tensor& g) {
        return grads(op::sum_to(g, sa), op::sum_to(op::neg(g), sb));
      },
      jvp);
}

Tensor mul(const Tensor& a, const Tensor& b) {
  const bool ga = needs(a), gb = needs(b);
  return record(
      "mul", op::mul(a, b), {a, b},
      [a = saved(a), b = saved(b), ga, gb](const Tensor& g) {
        return grads(ga ? op::sum_to(op::mul(g, b), a.shape()) : Tensor(),
                     gb ? op::sum_to(op::mul(g, a), b.shape()) : Tensor());
      },
      // each term already has the output's (broadcast) shape
      [&](const std::vector<Tensor>& t) {
        return add_tangents(t[0].defined() ? op::mul(t[0], b) : Tensor(), t[1].defined() ? op::mul(a, t[1]) : Tensor());
      });
}

Tensor div(const Tensor& a, const Tensor& b) {
  const bool ga = needs(a), gb = needs(b);
  Tensor y = op::div(a, b);
  return record(
      "div", y, {a, b},
      [b = saved(b), y = saved(y), sa = a.shape(), ga, gb](const Tensor& g) {
        Tensor gq = op::div(g, b);  // d(a/b)/da = 1/b ; d(a/b)/db = -(a/b)/b
        return grads(ga ? op::sum_to(gq, sa) : Tensor(),
                     gb ? op::sum_to(op::neg(op::mul(gq, y)), b.shape()) : Tensor());
      },
      // d(a/b) = (da - y db) / b
      [&](const std::vector<Tensor>& t) {
        Tensor num = add_tangents(t[0], t[1].defined() ? op::neg(op::mul(y, t[1])) : Tensor());
        return broadcast_tangent(op::div(num, b), y.shape());
      });
}

Tensor pow(const Tensor& a, const Tensor& b) {
  const bool ga = needs(a), gb = needs(b);
  Tensor y = op::pow(a, b);
  return record(
      "pow", y, {a, b},
      [a = saved(a), b = saved(b), y = saved(y), ga, gb](const Tensor& g) {
        // d(a^b)/da = b a^(b-1) ; d(a^b)/db = a^b log a
        Tensor da, db;
        if (ga) da = op::sum_to(op::mul(g, op::mul(b, op::pow(a, op::sub(b, 1.0)))), a.shape());
        if (gb) db = op::sum_to(op::mul(g, op::mul(y, op::log(a))), b.shape());
        return grads(da, db);
      },
      [&](const std::vector<Tensor>& t) {
        Tensor da, db;
        if (t[0].defined()) da = op::mul(t[0], op::mul(b, op::pow(a, op::sub(b, 1.0))));
        if (t[1].defined()) db = op::mul(t[1], op::mul(y, op::log(a)));
        return broadcast_tangent(add_tangents(da, db), y.shape());
      });
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  return record(
      "maximum", op::maximum(a, b), {a, b},
      [a = saved(a), b = saved(b)](const Tensor& g) {
        Tensor take_b = op::gt(b, a);  // ties go to a
        Tensor zero = scalar(0, g.dtype(), g.device());
        return grads(op::sum_to(op::where(take_b, zero, g), a.shape()),
                     op::sum_to(op::where(take_b, g, zero), b.shape()));
      },
      // the tangent of the input that was taken (take_b has the output's shape)
      [&](const std::vector<Tensor>& t) {
        Tensor zero = scalar(0, a.dtype(), a.device());
        return op::where(op::gt(b, a), t[1].defined() ? t[1] : zero, t[0].defined() ? t[0] : zero);
      });
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  return record(
      "minimum", op::minimum(a, b), {a, b},
      [a = saved(a), b = saved(b)](const Tensor& g) {
        Tensor take_b = op::lt(b, a);
        Tensor zero = scalar(0, g.dtype(), g.device());
        return grads(op::sum_to(op::where(take_b, zero, g), a.shape()),
                     op::sum_to(op::where(take_b, g, zero), b.shape()));
      },
      [&](const std::vector<Tensor>& t) {
        Tensor zero = scalar(0, a.dtype(), a.device());
        return op::where(op::lt(b, a), t[1].defined() ? t[1] : zero, t[0].defined() ? t[0] : zero);
      });
}

Tensor add(const Tensor& a, double b) {
  return record(
      "add", op::add(a, b), {a}, [](const Tensor& g) { return grads(g); },
      [](const std::vector<Tensor>& t) { return t[0]; });
}
Tensor sub(const Tensor& a, double b) {
  return record(
      "sub", op::sub(a, b), {a}, [](const Tensor& g) { return grads(g); },
      [](const std::vector<Tensor>& t) { return t[0]; });
}
Tensor mul(const Tensor& a, double b) {
  return record(
      "mul", op::mul(a, b), {a}, [b](const Tensor& g) { return grads(op::mul(g, b)); },
      [&](const std::vector<Tensor>& t) { return op::mul(t[0], b); });
}
Tensor div(const Tensor& a, double b) {
  return record(
      "div", op::div(a, b), {a}, [b](const Tensor& g) { return grads(op::div(g, b)); },
      [&](const std::vector<Tensor>& t) { return op::div(t[0], b); });
}
Tensor pow(const Tensor& a, double b) {
  return record(
      "pow", op::pow(a, b), {a},
      [a = saved(a), b](const Tensor& g) { return grads(op::mul(g, op::mul(op::pow(a, b - 1.0), b))); },
      [&](const std::vector<Tensor>& t) { return op::mul(t[0], op::mul(op::pow(a, b - 1.0), b)); });
}

Tensor neg(const Tensor& x) {
  return record(
      "neg", op::neg(x), {x}, [](const Tensor& g) { return grads(op::neg(g)); },
      [](const std::vector<Tensor>& t) { return op::neg(t[0]); });
}
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
