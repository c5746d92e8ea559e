#include "demos/tours/format.h"

#include <iomanip>
#include <sstream>
#include <vector>

namespace gs::tours {
namespace {

void nested(std::ostream& os, const std::vector<double>& v, const Shape& s, size_t d, size_t& i) {
  os << "[";
  for (int64_t k = 0; k < s[d]; ++k) {
    if (k) os << ", ";
    if (d + 1 == s.size()) {
      const double x = v[i++];
      os << (x == 0 ? 0.0 : x);  // -0 and 0 read the same
    } else {
      nested(os, v, s, d + 1, i);
    }
  }
  os << "]";
}

}  // namespace

std::string values(const Tensor& t) {
  if (!t.defined()) return "(none)";
  const std::vector<double> v = t.to_vector<double>();
  std::ostringstream os;
  os << std::setprecision(5);
  if (t.dim() == 0) {
    os << (v[0] == 0 ? 0.0 : v[0]);
    return os.str();
  }
  size_t i = 0;
  nested(os, v, t.shape(), 0, i);
  return os.str();
}

std::string shaped(const std::string& label, const Tensor& t) {
  if (!t.defined()) return label + " = (none)";
  return label + " " + shape_str(t.shape()) + " = " + values(t);
}

std::string index_of(int64_t j, const Shape& shape) {
  if (shape.empty()) return "";
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = j % shape[d];
    j /= shape[d];
  }
  std::string s = "[";
  for (size_t d = 0; d < idx.size(); ++d) s += (d ? ", " : "") + std::to_string(idx[d]);
  return s + "]";
}

}  // namespace gs::tours
