#include "tensor/views.h"

#include <algorithm>

#include "tensor/convert.h"

namespace gs::op {
namespace {

Tensor make_view(const Tensor& x, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = x.impl()->storage;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = x.dtype();
  return Tensor(std::move(impl));
}

// Resolves one -1 entry; checks the element count.
Shape infer_shape(std::string_view op, const Tensor& x, const Shape& shape) {
  Shape out = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (infer >= 0) fail(op, "only one dimension can be -1, got ", shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else if (out[i] < 0) {
      fail(op, "invalid shape ", shape_str(shape));
    } else {
      known *= out[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.numel() % known != 0)
      fail(op, "cannot reshape ", shape_str(x.shape()), " into ", shape_str(shape));
    out[infer] = x.numel() / known;
  }
  if (numel_of(out) != x.numel())
    fail(op, "cannot reshape ", shape_str(x.shape()), " (", x.numel(), " elements) into ", shape_str(shape));
  return out;
}

// Strides for `shape` over x's memory without a copy, if they exist (NumPy's attempt_nocopy_reshape):
// walk groups of old dims that are contiguous with each other and split/merge within each group.
bool view_strides(const Tensor& x, const Shape& shape, Shape& out) {
  const Shape& os = x.shape();
  const Shape& ost = x.strides();
  if (x.numel() == 0) {
    out = contiguous_strides(shape);
    return true;
  }
  // drop size-1 dims of the old shape: their strides do not matter
  Shape s, st;
  for (size_t i = 0; i < os.size(); ++i)
    if (os[i] != 1) {
      s.push_back(os[i]);
      st.push_back(ost[i]);
    }
  out.assign(shape.size(), 0);
  size_t oi = 0, ni = 0;
  const size_t on = s.size(), nn = shape.size();
  while (oi < on && ni < nn) {
    // skip new size-1 dims
    if (shape[ni] == 1) {
      out[ni] = 1;
      ++ni;
      continue;
    }
    size_t oj = oi + 1, nj = ni + 1;
    int64_t op = s[oi], np = shape[ni];
    while (op != np) {
      if (np < op) np *= shape[nj++];
      else op *= s[oj++];
    }
    // old dims [oi, oj) must be mutually contiguous
    for (size_t k = oi; k + 1 < oj; ++k)
      if (st[k] != st[k + 1] * s[k + 1]) return false;
    // assign new strides from the innermost of the group
    int64_t stride = st[oj - 1];
    for (size_t k = nj; k-- > ni;) {
      out[k] = stride;
      stride *= shape[k];
    }
    oi = oj;
    ni = nj;
  }
  for (; ni < nn; ++ni) {
    if (shape[ni] != 1) return false;
    out[ni] = 1;
  }
  return oi == on;
}

}  // namespace

Tensor view(const Tensor& x, const Shape& shape) {
  Shape s = infer_shape("view", x, shape);
  Shape st;
  if (!view_strides(x, s, st))
    fail("view", "cannot view ", shape_str(x.shape()), " with strides ", shape_str(x.strides()), " as ",
         shape_str(s), " without a copy; use reshape");
  return make_view(x, std::move(s), std::move(st), x.offset());
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  Shape s = infer_shape("reshape", x, shape);
  Shape st;
  if (view_strides(x, s, st)) return make_view(x, std::move(s), std::move(st), x.offset());
  Tensor c = clone(x);
  return make_view(c, s, contiguous_strides(s), 0);
}

Tensor flatten(const Tensor& x) { return reshape(x, {x.numel()}); }

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  const int64_t n = x.dim();
  d0 = wrap_dim("transpose", d0, n);
  d1 = wrap_dim("transpose", d1, n);
  Shape s = x.shape(), st = x.strides();
  std::swap(s[d0], s[d1]);
  std::swap(st[d0], st[d1]);
  return make_view(x, std::move(s), std::move(st), x.offset());
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  const int64_t n = x.dim();
  if (static_cast<int64_t>(dims.size()) != n)
    fail("permute", "got ", dims.size(), " dims for a tensor of shape ", shape_str(x.shape()));
  std::vector<bool> seen(n, false);
  Shape s(n), st(n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t d = wrap_dim("permute", dims[i], n);
    if (seen[d]) fail("permute", "dim ", dims[i], " repeated in ", shape_str(dims));
    seen[d] = true;
    s[i] = x.shape()[d];
    st[i] = x.strides()[d];
  }
  return make_view(x, std::move(s), std::move(st), x.offset());
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  dim = wrap_dim("narrow", dim, x.dim());
  const int64_t size = x.shape()[dim];
  if (start < 0) start += size;
  if (start < 0 || length < 0 || start + length > size)
    fail("narrow", "start ", start, " length ", length, " out of range for dim ", dim, " of size ", size,
         " in ", shape_str(x.shape()));
  Shape s = x.shape();
  s[dim] = length;
  return make_view(x, std::move(s), x.strides(), x.offset() + start * x.strides()[dim]);
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  dim = wrap_dim("slice", dim, x.dim());
  if (step <= 0) fail("slice", "step must be positive, got ", step);
  const int64_t size = x.shape()[dim];
  if (start < 0) start += size;
  if (end < 0) end += size;
  start = std::clamp<int64_t>(start, 0, size);
  end = std::clamp<int64_t>(end, start, size);
  Shape s = x.shape(), st = x.strides();
  s[dim] = (end - start + step - 1) / step;
  st[dim] *= step;
  return make_view(x, std::move(s), std::move(st), x.offset() + start * x.strides()[dim]);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  const size_t n = shape.size(), k = x.shape().size();
  if (n < k) fail("expand", "cannot expand ", shape_str(x.shape()), " to fewer dims ", shape_str(shape));
  Shape s(n), st(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (i < n - k) {
      s[i] = shape[i];
      continue;  // new leading dim: stride 0
    }
    const int64_t have = x.shape()[i - (n - k)];
    const int64_t want = shape[i] == -1 ? have : shape[i];
    if (have == want) {
      s[i] = have;
      st[i] = x.strides()[i - (n - k)];
    } else if (have == 1) {
      s[i] = want;
    } else {
      fail("expand", "cannot expand ", shape_str(x.shape()), " to ", shape_str(shape));
    }
  }
  return make_view(x, std::move(s), std::move(st), x.offset());
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  dim = wrap_dim("squeeze", dim, x.dim());
  if (x.shape()[dim] != 1)
    fail("squeeze", "dim ", dim, " of ", shape_str(x.shape()), " has size ", x.shape()[dim], ", not 1");
  Shape s = x.shape(), st = x.strides();
  s.erase(s.begin() + dim);
  st.erase(st.begin() + dim);
  return make_view(x, std::move(s), std::move(st), x.offset());
}

Tensor squeeze(const Tensor& x) {
  Shape s, st;
  for (int64_t i = 0; i < x.dim(); ++i)
    if (x.shape()[i] != 1) {
      s.push_back(x.shape()[i]);
      st.push_back(x.strides()[i]);
    }
  return make_view(x, std::move(s), std::move(st), x.offset());
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  dim = wrap_dim("unsqueeze", dim, x.dim() + 1);
  Shape s = x.shape(), st = x.strides();
  const int64_t stride = dim < x.dim() ? x.strides()[dim] * x.shape()[dim] : 1;
  s.insert(s.begin() + dim, 1);
  st.insert(st.begin() + dim, stride);
  return make_view(x, std::move(s), std::move(st), x.offset());
}

}  // namespace gs::op
