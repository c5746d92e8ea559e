#include "nn/grad_buckets.h"

#include <optional>

#include "autograd/ops.h"
#include "comm/communicator.h"
#include "comm/nccl.h"
#include "tensor/ops.h"

namespace gs::nn {

struct GradBuckets::State {
  struct Slot {
    Tensor param;
    int64_t bucket = 0, offset = 0, numel = 0;
    bool arrived = false;
  };
  struct Bucket {
    Tensor buf;  // [numel], the model's dtype
    int64_t missing = 0, params = 0;
    comm::Communicator::Handle handle = 0;
    bool started = false;
  };
  comm::Communicator* comm = nullptr;
  // Parameters on CUDA: the NCCL communicator made from the caller's host world, which then
  // carries only the step's other (host) collectives. Null on the CPU path.
  std::unique_ptr<comm::Communicator> device_comm;
  comm::Elem elem = comm::Elem::f32;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  bool armed = false;

  void start(Bucket& b) {
    b.started = true;
    b.handle = comm->start_all_reduce_sum(b.buf.raw_data(), b.buf.numel(), elem);
  }
  void on_grad(size_t i, const Tensor& g) {
    Slot& s = slots[i];
    Bucket& b = buckets[static_cast<size_t>(s.bucket)];
    op::copy_(op::reshape(op::narrow(b.buf, 0, s.offset, s.numel), g.shape()), g);
    if (!s.arrived) {
      s.arrived = true;
      if (--b.missing == 0) start(b);
    }
    comm->progress();
  }
};

GradBuckets::GradBuckets(const NamedTensors& params, comm::Communicator& comm, int64_t bucket_bytes)
    : s_(std::make_shared<State>()) {
  s_->comm = &comm;
  if (params.empty()) return;
  const DType dt = params.front().second.dtype();
  const Device dev = params.front().second.device();
  s_->elem = dt == kFloat64 ? comm::Elem::f64 : comm::Elem::f32;
  std::vector<int64_t> sizes;
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    const auto& [name, p] = *it;
    if (p.dtype() != dt || !is_floating(dt))
      fail("train", "data-parallel buckets need one floating dtype, but ", name, " is ", dtype_name(p.dtype()));
    if (p.device() != dev)
      fail("train", "data-parallel buckets need every parameter on one device, but ", name, " is on ",
           device_name(p.device()), " and ", params.front().first, " on ", device_name(dev));
    // Without NCCL (a build without the CUDA backend or MPI, or the emulated device) gradients on
    // the device are refused, as before NCCL existed: no silent round trip through the host.
    if (p.device() != Device::CPU && !comm::nccl_available())
      fail("train", "data-parallel training of parameters on ", device_name(p.device()),
           " needs the NCCL communicator, which this build lacks (it comes with the CUDA backend and MPI); parameter ",
           name);
    const int64_t bytes = p.numel() * static_cast<int64_t>(dtype_size(dt));
    if (sizes.empty() || (sizes.back() > 0 && sizes.back() + bytes > bucket_bytes)) sizes.push_back(0);
    State::Slot slot;
    slot.param = p;
    slot.bucket = static_cast<int64_t>(sizes.size()) - 1;
    slot.offset = sizes.back() / static_cast<int64_t>(dtype_size(dt));
    slot.numel = p.numel();
    sizes.back() += bytes;
    s_->slots.push_back(slot);
  }
  if (dev != Device::CPU) {
    // The buffers below live on the device and go straight to NCCL. make_nccl checks that this
    // rank's parameters sit on its own GPU (each rank selected it at start-up) before NCCL starts.
    const void* resident = nullptr;
    for (const auto& [name, p] : params)
      if (p.numel() > 0) {
        resident = p.raw_data();
        break;
      }
    s_->device_comm = comm::make_nccl(comm, resident);
    s_->comm = s_->device_comm.get();
  }
  for (int64_t bytes : sizes) {
    State::Bucket b;
    b.buf = zeros({bytes / static_cast<int64_t>(dtype_size(dt))}, dt, dev);
    s_->buckets.push_back(b);
  }
  for (const auto& slot : s_->slots) ++s_->buckets[static_cast<size_t>(slot.bucket)].params;
  std::weak_ptr<State> weak = s_;
  for (size_t i = 0; i < s_->slots.size(); ++i)
    register_hook(s_->slots[i].param, [weak, i](const Tensor& g) -> std::optional<Tensor> {
      if (auto st = weak.lock(); st && st->armed) st->on_grad(i, g);
      return std::nullopt;
    });
}

GradBuckets::~GradBuckets() { s_->armed = false; }

int64_t GradBuckets::buckets() const { return static_cast<int64_t>(s_->buckets.size()); }
int64_t GradBuckets::started() const {
  int64_t n = 0;
  for (const auto& b : s_->buckets) n += b.started;
  return n;
}

void GradBuckets::arm() {
  for (auto& b : s_->buckets) {
    b.missing = b.params;
    b.started = false;
  }
  for (auto& s : s_->slots) s.arrived = false;
  s_->armed = true;
}

void GradBuckets::finish() {
  s_->armed = false;
  // a parameter with no gradient this step contributes zeros (on every rank alike)
  for (auto& s : s_->slots)
    if (!s.arrived)
      op::copy_(op::narrow(s_->buckets[static_cast<size_t>(s.bucket)].buf, 0, s.offset, s.numel),
                zeros({s.numel}, s.param.dtype(), s.param.device()));
  for (auto& b : s_->buckets)
    if (!b.started) s_->start(b);
  const double inv = 1.0 / static_cast<double>(s_->comm->size());
  for (auto& b : s_->buckets) s_->comm->wait(b.handle);
  // Each gradient becomes its slice of the sum times 1 / size, in a new contiguous tensor: one
  // pass over the bucket, and no strided copy into a gradient a vjp left as a transposed view.
  for (auto& s : s_->slots) {
    if (!s.arrived) continue;
    const Tensor sum = op::narrow(s_->buckets[static_cast<size_t>(s.bucket)].buf, 0, s.offset, s.numel);
    set_grad(s.param, op::mul(op::reshape(sum, s.param.shape()), inv));
  }
}

}  // namespace gs::nn
