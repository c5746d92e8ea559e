#include "autograd/anomaly.h"

#include <cmath>

namespace gs {

int64_t first_non_finite(const Tensor& t) {
  if (!t.defined() || !is_floating(t.dtype())) return -1;
  const std::vector<double> v = t.to_vector<double>();
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i])) return static_cast<int64_t>(i);
  return -1;
}

void check_finite_forward(const char* op, const std::string& node_name, const Tensor& out) {
  const int64_t i = first_non_finite(out);
  if (i >= 0)
    fail(op, "anomaly: forward output of node '", node_name, "' ", shape_str(out.shape()),
         " has a non-finite value at flat index ", i);
}

void check_finite_backward(const std::string& op, const std::string& node_name, const char* what, const Tensor& g) {
  const int64_t i = first_non_finite(g);
  if (i >= 0)
    fail(op, "anomaly: backward ", what, " of node '", node_name, "' ", shape_str(g.shape()),
         " has a non-finite value at flat index ", i);
}

}  // namespace gs
