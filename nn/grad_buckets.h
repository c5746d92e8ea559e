#pragma once
// Gradient all-reduce in buckets, launched from backward hooks (data-parallel training,
// nn/trainer.h). The parameters, in reverse registration order (about the order in which backward
// finishes them: the head first, the embedding last), are packed into buckets of at most
// `bucket_bytes`. During a backward pass each parameter's hook copies its gradient into its
// bucket's buffer; the moment a bucket is complete its sum over the ranks is started (a
// nonblocking collective), so the communication of the late layers overlaps the backward pass of
// the early ones. finish() starts what is left, waits for every bucket, divides by the number of
// ranks and replaces each parameter's .grad with the result (a new tensor: a handle to the old
// .grad keeps this rank's own gradient).
//
// The hooks act only between arm() and finish() (a gs::grad() call elsewhere, such as the leak
// test, passes through them untouched) and hold only a shared state, so they outlive the object
// harmlessly. Every rank must run the same graph: a parameter without a gradient in this step
// must have none on every rank (the same model and loss give that).
//
// Parameters on CUDA (builds with NCCL, comm::nccl_available()): the buckets are device buffers
// and their sums go through an NCCL communicator made once here from `comm` (comm/nccl.h), which
// must be the host world of every rank; each rank's parameters must be on its own local GPU
// (comm::select_local_device before the model is moved). Without NCCL, CUDA parameters throw.
#include <cstdint>
#include <memory>
#include <vector>

#include "nn/module.h"

namespace gs::comm {
class Communicator;
}

namespace gs::nn {

class GradBuckets {
 public:
  // All parameters must be float32 or float64 (one dtype) on one device, the CPU or (with NCCL) CUDA;
  // throws "train: ..." otherwise. On CUDA every rank must construct it together (NCCL's set-up).
  GradBuckets(const NamedTensors& params, comm::Communicator& comm, int64_t bucket_bytes = int64_t{25} << 20);
  ~GradBuckets();
  GradBuckets(const GradBuckets&) = delete;
  GradBuckets& operator=(const GradBuckets&) = delete;

  void arm();     // before backward
  void finish();  // after backward: every .grad is the mean over the ranks
  int64_t buckets() const;
  int64_t started() const;  // buckets whose collective has started since arm() (before finish: by the hooks)

  struct State;  // shared with the hooks

 private:
  std::shared_ptr<State> s_;
};

}  // namespace gs::nn
