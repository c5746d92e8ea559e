#include "autograd/ops/linalg.h"

#include "autograd/function.h"
#include "autograd/variable.h"
#include "tensor/linalg.h"
#include "tensor/reduce.h"
#include "tensor/views.h"

namespace gs {
namespace {

// A 2-d view whose columns are contiguous, e.g. transpose() of a contiguous matrix.
bool column_major(const Tensor& t) {
  return t.dim() == 2 && t.shape()[0] > 1 && t.shape()[1] > 1 && t.strides()[0] == 1 && t.strides()[1] == t.shape()[0];
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  const bool ga = requires_grad_flag(a), gb = requires_grad_flag(b);
  return record(
      "matmul", op::matmul(a, b), {a, b},
      [a = saved(a), b = saved(b), ga, gb](const Tensor& g) {
        Tensor da, db;
        if (ga) da = op::sum_to(op::matmul(g, b, false, true), a.shape());
        if (gb) {
          const int64_t K = a.shape().back(), N = g.shape().back();
          if (b.dim() == 2 && (a.dim() > 2 || (a.dim() == 2 && column_major(b))) && a.numel() > 0 && g.numel() > 0) {
            // A 2-d b (a Linear layer's weight): db = sum_b a_b^T g_b over a's batch is one product
            // over the flattened rows, [K, batch * M] x [batch * M, N], not batch products and a sum.
            // A column-major b (x @ transpose(W), Linear's weight) gets db in its own layout,
            // (g^T a)^T: transpose's vjp then hands W a contiguous [N, K] gradient, which the
            // optimiser and gradient clipping read at full speed.
            const Tensor a2 = op::reshape(a, {-1, K}), g2 = op::reshape(g, {-1, N});
            db = column_major(b) ? op::transpose(op::matmul(g2, a2, true, false), 0, 1) : op::matmul(a2, g2, true, false);
          } else {
            db = op::sum_to(op::matmul(a, g, true, false), b.shape());
          }
        }
        return grads(da, db);
      },
      // d(ab) = da b + a db; each term has the output's (broadcast batch) shape
      [&](const std::vector<Tensor>& t) {
        return add_tangents(t[0].defined() ? op::matmul(t[0], b) : Tensor(),
                            t[1].defined() ? op::matmul(a, t[1]) : Tensor());
      });
}

}  // namespace gs
