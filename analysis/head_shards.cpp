// The collectives of the head metrics across ranks (analysis/head_shards.h).
#include "analysis/head_shards.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>
#include <type_traits>

#include "analysis/head_internal.h"
#include "tensor/ops.h"

namespace gs::analysis::detail {
namespace {

template <class T>
constexpr comm::Elem elem_of() {
  if constexpr (std::is_same_v<T, double>) return comm::Elem::f64;
  else return comm::Elem::i64;
}

// Every rank's `mine` (counts[r] items on rank r) concatenated in rank order: on root, or on
// every rank with to_all. The communicator's gather takes the same count from every rank, so each
// rank sends its items padded to the largest count and the padding is dropped here.
template <class T>
std::vector<T> concat_ranks(comm::Communicator& c, const std::vector<T>& mine, const std::vector<int64_t>& counts,
                            int root, bool to_all) {
  const int R = c.size();
  const int64_t most = *std::max_element(counts.begin(), counts.end());
  if (most == 0) return {};
  std::vector<T> padded(mine);
  padded.resize(static_cast<size_t>(most));
  const bool receives = to_all || c.rank() == root;
  std::vector<T> all(receives ? static_cast<size_t>(most * R) : 0);
  c.gather(padded.data(), most, elem_of<T>(), c.rank() == root ? all.data() : nullptr, root);
  if (to_all) c.broadcast(all.data(), most * R, elem_of<T>(), root);
  if (!receives) return {};
  std::vector<T> out;
  for (int r = 0; r < R; ++r) {
    const auto from = all.begin() + r * most;
    out.insert(out.end(), from, from + counts[static_cast<size_t>(r)]);
  }
  return out;
}

}  // namespace

void sum_over(comm::Communicator& c, std::vector<double>& v) {
  if (!v.empty()) c.all_reduce_sum(v.data(), static_cast<int64_t>(v.size()), comm::Elem::f64);
}

void sum_over(comm::Communicator& c, std::vector<int64_t>& v) {
  if (!v.empty()) c.all_reduce_sum(v.data(), static_cast<int64_t>(v.size()), comm::Elem::i64);
}

int64_t sum_over(comm::Communicator& c, int64_t x) {
  c.all_reduce_sum(&x, 1, comm::Elem::i64);
  return x;
}

double sum_over(comm::Communicator& c, double x) {
  c.all_reduce_sum(&x, 1, comm::Elem::f64);
  return x;
}

std::vector<int64_t> every_rank(comm::Communicator& c, int64_t x) {
  std::vector<int64_t> v(static_cast<size_t>(c.size()), 0);
  v[static_cast<size_t>(c.rank())] = x;
  sum_over(c, v);  // each slot is one rank's value plus zeros: exact
  return v;
}

void sum_in_place(comm::Communicator& c, Tensor& x) {
  if (x.numel() == 0) return;
  if (x.device() == Device::CPU && x.dtype() == kFloat64 && x.is_contiguous()) {
    c.all_reduce_sum(x.data<double>(), x.numel(), comm::Elem::f64);  // a Gram matrix can be GiBs: no copy
    return;
  }
  std::vector<double> v = x.to_vector<double>();
  sum_over(c, v);
  x = op::to(op::to(from_vector(v, x.shape()), x.dtype()), x.device());
}

void from_root(comm::Communicator& c, std::vector<double>& v, int root) {
  if (!v.empty()) c.broadcast(v.data(), static_cast<int64_t>(v.size()), comm::Elem::f64, root);
}

Tensor from_root(comm::Communicator& c, const Tensor& x, DType dtype, Device device, int root) {
  constexpr int64_t kMaxDims = 8;
  std::vector<int64_t> head(static_cast<size_t>(kMaxDims + 1), 0);  // ndim, then the dims
  if (c.rank() == root) {
    if (x.dim() > kMaxDims) fail("head_metrics", "internal: from_root of a ", x.dim(), "-d tensor");
    head[0] = x.dim();
    for (int64_t i = 0; i < x.dim(); ++i) head[static_cast<size_t>(1 + i)] = x.shape()[static_cast<size_t>(i)];
  }
  c.broadcast(head.data(), kMaxDims + 1, comm::Elem::i64, root);
  Shape shape;
  for (int64_t i = 0; i < head[0]; ++i) shape.push_back(head[static_cast<size_t>(1 + i)]);
  std::vector<double> v = c.rank() == root ? x.to_vector<double>() : std::vector<double>(static_cast<size_t>(numel_of(shape)));
  from_root(c, v, root);
  return op::to(op::to(from_vector(v, shape), dtype), device);
}

Tensor all_rows(comm::Communicator& c, const Tensor& x) {
  const int64_t n = x.size(0);
  int64_t width = 1;
  for (size_t d = 1; d < x.shape().size(); ++d) width *= x.shape()[d];
  const std::vector<int64_t> rows = every_rank(c, n);
  std::vector<int64_t> items(rows.size());
  int64_t total = 0;
  for (size_t r = 0; r < rows.size(); ++r) items[r] = rows[r] * width, total += rows[r];
  Shape shape = x.shape();
  shape[0] = total;
  if (x.dtype() == kInt64) {
    const std::vector<int64_t> v = concat_ranks(c, x.to_vector<int64_t>(), items, 0, true);
    return op::to(from_vector(v, shape), x.device());
  }
  // float32 widens to float64 and back exactly
  const std::vector<double> v = concat_ranks(c, x.to_vector<double>(), items, 0, true);
  return op::to(op::to(from_vector(v, shape), x.dtype()), x.device());
}

std::vector<double> gathered(comm::Communicator& c, const std::vector<double>& mine, int root) {
  return concat_ranks(c, mine, every_rank(c, static_cast<int64_t>(mine.size())), root, false);
}

PerTokenDestroyed per_token_across(comm::Communicator& c, const std::vector<double>& mine) {
  std::vector<double> all = gathered(c, mine, 0);
  std::vector<double> r(5, 0.0);
  if (c.is_root()) {
    const PerTokenDestroyed p = per_token_summary(std::move(all));
    r = {p.mean, p.p5, p.p50, p.p95, static_cast<double>(p.count)};  // a count travels exactly below 2^53
  }
  from_root(c, r, 0);
  PerTokenDestroyed out;
  out.mean = r[0], out.p5 = r[1], out.p50 = r[2], out.p95 = r[3];
  out.count = static_cast<int64_t>(r[4]);
  return out;
}

void check_on_every_rank(comm::Communicator& c, const char* op, const std::function<void()>& checks) {
  std::exception_ptr mine;
  try {
    checks();
  } catch (...) {
    mine = std::current_exception();
  }
  const int64_t failed = sum_over(c, int64_t{mine ? 1 : 0});
  if (mine) std::rethrow_exception(mine);
  if (failed == 1) fail(op, "the inputs of another rank failed their checks (that rank's error says why)");
  if (failed > 1) fail(op, "the inputs of ", failed, " other ranks failed their checks (their errors say why)");
}

void check_same_everywhere(comm::Communicator& c, const char* op, const std::vector<int64_t>& values,
                           const char* what) {
  // root's values against each rank's own, then whether any rank saw a difference: every rank
  // learns the answer, so all throw or none does
  std::vector<int64_t> root_values = values;
  if (!root_values.empty()) c.broadcast(root_values.data(), static_cast<int64_t>(root_values.size()), comm::Elem::i64, 0);
  const int64_t differ = sum_over(c, int64_t{root_values != values ? 1 : 0});
  if (differ > 0)
    fail(op, what, " differ between the ", c.size(), " ranks (", differ,
         " differ from rank 0's): every rank must pass the same");
}

void check_same_options(comm::Communicator& c, const char* op, const HeadMetricsOptions& o) {
  const auto bits = [](double x) {
    int64_t b = 0;
    std::memcpy(&b, &x, sizeof b);  // the exact value, NaN included
    return b;
  };
  check_same_everywhere(c, op,
                        {o.chunk, o.memory_budget_bytes, o.ignore_index, o.topk, o.exact_spectrum_max_side,
                         o.exact_spectrum ? 1 : 0, o.power_iters, o.max_power_iters, bits(o.spectrum_rtol), o.oversample,
                         static_cast<int64_t>(o.seed), bits(o.rank_tol), o.promote_float64 ? 1 : 0, o.update_terms ? 1 : 0},
                        "the head-metric options");
}

}  // namespace gs::analysis::detail
