#include "autograd/jvp.h"

#include <atomic>
#include <memory>

#include "autograd/meta.h"
#include "tensor/convert.h"
#include "tensor/creation.h"

namespace gs {
namespace {

std::atomic<uint64_t> g_levels{0};  // every call its own number, so stale tangents never match
thread_local uint64_t t_level = 0;

// The running call's number for as long as f runs (reset on the way out, exceptions included).
class Level {
 public:
  Level() {
    if (t_level != 0)
      fail("jvp", "nested calls are not supported: f called jvp() while a jvp() was running on this thread");
    t_level = g_levels.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  ~Level() { t_level = 0; }
  Level(const Level&) = delete;
  Level& operator=(const Level&) = delete;
};

void check_tangent(size_t i, const Tensor& x, const Tensor& t) {
  if (!t.defined()) return;
  if (!x.defined()) fail("jvp", "tangent ", i, " is given for an undefined input ", i);
  if (!is_floating(x.dtype()))
    fail("jvp", "input ", i, " is ", dtype_name(x.dtype()),
         ": only floating inputs carry a tangent (pass an undefined Tensor for it)");
  if (t.shape() != x.shape())
    fail("jvp", "tangent ", i, " has shape ", shape_str(t.shape()), " but input ", i, " has shape ",
         shape_str(x.shape()));
  if (t.dtype() != x.dtype())
    fail("jvp", "tangent ", i, " is ", dtype_name(t.dtype()), " but input ", i, " is ", dtype_name(x.dtype()));
  if (t.device() != x.device())
    fail("jvp", "tangent ", i, " is on ", device_name(t.device()), " but input ", i, " is on ",
         device_name(x.device()));
}

}  // namespace

namespace detail {

uint64_t forward_level() { return t_level; }

Tensor with_tangent(const Tensor& primal, const Tensor& tangent) {
  auto impl = std::make_shared<TensorImpl>(*primal.impl());
  auto meta = std::make_shared<AutogradMeta>();
  meta->tangent = tangent;
  meta->tangent_level = t_level;
  impl->autograd = std::move(meta);
  return Tensor(std::move(impl));
}

}  // namespace detail

Tensor tangent_of(const Tensor& t) {
  if (t_level == 0 || !t.defined()) return Tensor();
  const auto& m = t.impl()->autograd;
  if (!m || m->tangent_level != t_level) return Tensor();
  return m->tangent;
}

JvpResult jvp_with_outputs(const JvpTarget& f, const std::vector<Tensor>& inputs, const std::vector<Tensor>& tangents) {
  if (!f) fail("jvp", "f is empty");
  if (inputs.size() != tangents.size())
    fail("jvp", inputs.size(), " inputs but ", tangents.size(), " tangents (one per input; undefined means zero)");
  for (size_t i = 0; i < inputs.size(); ++i) check_tangent(i, inputs[i], tangents[i]);

  Level level;
  std::vector<Tensor> primals;
  primals.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    // op::alias: the tangent the caller passed, without any graph of its own
    primals.push_back(tangents[i].defined() ? detail::with_tangent(inputs[i], op::alias(tangents[i])) : inputs[i]);
  JvpResult r;
  r.outputs = f(primals);
  // All tangents are read before any is cleared: f may return one tensor twice.
  for (const Tensor& y : r.outputs) {
    Tensor t = tangent_of(y);
    r.tangents.push_back(t.defined() || !y.defined() ? t : zeros_like(y));
  }
  // The outputs leave without their tangents (in place: an output's metadata may also hold its
  // reverse-mode node, which the caller keeps).
  for (const Tensor& y : r.outputs)
    if (y.defined())
      if (const auto& m = y.impl()->autograd; m && m->tangent_level == t_level) {
        m->tangent = Tensor();
        m->tangent_level = 0;
      }
  return r;
}

std::vector<Tensor> jvp(const JvpTarget& f, const std::vector<Tensor>& inputs, const std::vector<Tensor>& tangents) {
  return jvp_with_outputs(f, inputs, tangents).tangents;
}

}  // namespace gs
