// The NCCL communicator (comm/nccl.h): collectives on device buffers, enqueued on a stream of
// their own behind a fence on the producers' streams, each closed by an event that wait() polls
// against the timeout. Built only with CUDA and MPI (GRADSCOPE_HAVE_NCCL).
#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "comm/nccl.h"

namespace gs::comm {
namespace {

void check_cuda(const char* call, cudaError_t e) {
  if (e != cudaSuccess) throw std::runtime_error(std::string("comm: ") + call + ": " + cudaGetErrorString(e));
}

void check_nccl(const char* call, ncclResult_t r) {
  if (r == ncclSuccess) return;
  std::string msg = std::string("comm: ") + call + ": " + ncclGetErrorString(r);
  // NCCL's own account of the last failure is often the useful part (its comm argument is unused)
  const char* last = ncclGetLastError(nullptr);
  if (last && *last) msg += std::string(" (") + last + ")";
  throw std::runtime_error(msg);
}

ncclDataType_t type_of(Elem e) {
  switch (e) {
    case Elem::f32: return ncclFloat32;
    case Elem::f64: return ncclFloat64;
    case Elem::i64: return ncclInt64;
  }
  return ncclFloat32;
}

// The launcher's word for this process's rank on its node; -1 when it does not say.
int local_rank_from_env() {
  const char* env = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
  if (!env || !*env) return -1;
  char* end = nullptr;
  const long v = std::strtol(env, &end, 10);
  if (*end != '\0' || v < 0 || v > INT_MAX)
    throw std::invalid_argument(std::string("OMPI_COMM_WORLD_LOCAL_RANK: '") + env + "' is not a local rank");
  return static_cast<int>(v);
}

// Ends the whole job, as the MPI world's timeout does; without MPI running (a host world of one)
// there is nobody else to stop.
[[noreturn]] void end_job() {
  int inited = 0, finalized = 0;
  MPI_Initialized(&inited);
  MPI_Finalized(&finalized);
  if (inited && !finalized) MPI_Abort(MPI_COMM_WORLD, 3);
  std::_Exit(3);
}

class Nccl final : public Communicator {
 public:
  Nccl(Communicator& host, const void* resident) : rank_(host.rank()), size_(host.size()), timeout_(timeout_seconds()) {
    try {
      init(host, resident);
    } catch (...) {
      release();
      throw;
    }
  }
  ~Nccl() override { release(); }
  Nccl(const Nccl&) = delete;
  Nccl& operator=(const Nccl&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend() const override { return "nccl"; }

  void all_reduce_sum(void* buf, int64_t count, Elem e) override { wait(start_reduce("all_reduce", buf, count, e)); }
  Handle start_all_reduce_sum(void* buf, int64_t count, Elem e) override {
    return start_reduce("all_reduce (started earlier)", buf, count, e);
  }

  void broadcast(void* buf, int64_t count, Elem e, int root) override {
    check_root("broadcast", root);
    if (count > 0) check_buffer("broadcast", buf);
    wait(start("broadcast", count, [&] {
      check_nccl("ncclBroadcast", ncclBroadcast(buf, buf, static_cast<size_t>(count), type_of(e), root, comm_, stream_));
    }));
  }

  // NCCL has no gather: the root receives from every other rank in one group (so the receives
  // progress together) and copies its own part on the same stream.
  void gather(const void* in, int64_t count, Elem e, void* out, int root) override {
    check_root("gather", root);
    if (count > 0) {
      check_buffer("gather", in);
      if (rank_ == root) check_buffer("gather", out);
    }
    const size_t n = static_cast<size_t>(count), bytes = n * elem_size(e);
    wait(start("gather", count, [&] {
      check_nccl("ncclGroupStart", ncclGroupStart());
      const char* call = "ncclSend";
      ncclResult_t r = ncclSuccess;
      if (rank_ != root) {
        r = ncclSend(in, n, type_of(e), root, comm_, stream_);
      } else {
        call = "ncclRecv";
        for (int peer = 0; peer < size_ && r == ncclSuccess; ++peer) {
          if (peer == root) continue;
          char* slot = static_cast<char*>(out) + static_cast<size_t>(peer) * bytes;
          r = ncclRecv(slot, n, type_of(e), peer, comm_, stream_);
        }
      }
      const ncclResult_t end = ncclGroupEnd();  // closed even after a failed call, then reported
      check_nccl(call, r);
      check_nccl("ncclGroupEnd", end);
      char* own = rank_ == root ? static_cast<char*>(out) + static_cast<size_t>(root) * bytes : nullptr;
      if (own && own != in)
        check_cuda("cudaMemcpyAsync", cudaMemcpyAsync(own, in, bytes, cudaMemcpyDeviceToDevice, stream_));
    }));
  }

  // A one-element sum on the device: it completes only when every rank has reached it, and only
  // after this rank's earlier collectives (same stream).
  void barrier() override {
    wait(start("barrier", 1, [&] {
      check_nccl("ncclAllReduce", ncclAllReduce(scratch_, scratch_, 1, ncclInt64, ncclSum, comm_, stream_));
    }));
  }

  void wait(Handle h) override {
    auto it = pending_.find(h);
    if (it == pending_.end()) throw std::invalid_argument("wait: no collective started with handle " + std::to_string(h));
    const Pending p = it->second;
    pending_.erase(it);
    free_events_.push_back(p.done);  // reusable however the poll ends: a failure ends the job
    poll(p);
  }

 private:
  struct Pending {
    cudaEvent_t done = nullptr;  // recorded on stream_ right after the collective
    const char* what = "";
    int64_t count = 0;
  };

  void init(Communicator& host, const void* resident) {
    // Everything that can fail on one rank alone happens before the ranks agree, and a rank that
    // cannot take part makes every rank throw, instead of leaving the others in the id broadcast
    // or in ncclCommInitRank until the timeout.
    std::string problem;
    ncclUniqueId id{};
    try {
      device_ = nccl_local_device(host);
      if (resident) check_resident(resident);
      check_cuda("cudaSetDevice", cudaSetDevice(device_));
      // non-blocking: gradscope's kernels queued after a collective do not wait for it
      check_cuda("cudaStreamCreateWithFlags", cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
      check_cuda("cudaEventCreateWithFlags", cudaEventCreateWithFlags(&fence_, cudaEventDisableTiming));
      check_cuda("cudaMalloc", cudaMalloc(&scratch_, sizeof(int64_t)));
      check_cuda("cudaMemset", cudaMemset(scratch_, 0, sizeof(int64_t)));
      if (rank_ == 0) check_nccl("ncclGetUniqueId", ncclGetUniqueId(&id));
    } catch (const std::exception& e) {
      problem = e.what();
    }
    int64_t failed = problem.empty() ? 0 : 1;
    host.all_reduce_sum(&failed, 1, Elem::i64);
    if (!problem.empty()) throw std::runtime_error(problem);
    if (failed > 0)
      throw std::runtime_error("comm: make_nccl: " + std::to_string(failed) +
                               " other rank(s) could not set up NCCL (each printed or threw its own reason)");
    // The id is 128 opaque bytes; the host world carries it as 16 int64 words.
    static_assert(sizeof(ncclUniqueId) % sizeof(int64_t) == 0, "ncclUniqueId is not a whole number of int64 words");
    host.broadcast(&id, static_cast<int64_t>(sizeof(id) / sizeof(int64_t)), Elem::i64, 0);
    ncclComm_t c = nullptr;
    check_nccl("ncclCommInitRank", ncclCommInitRank(&c, size_, id, rank_));
    comm_ = c;
  }

  // The caller's existing device data must already be on this rank's GPU: switching devices under
  // a CUDA backend that has started would split its work across two GPUs.
  void check_resident(const void* p) const {
    cudaPointerAttributes a{};
    check_cuda("cudaPointerGetAttributes", cudaPointerGetAttributes(&a, p));
    if (a.type != cudaMemoryTypeDevice && a.type != cudaMemoryTypeManaged)
      throw std::invalid_argument("comm: make_nccl: the resident pointer is not CUDA device memory");
    if (a.device != device_)
      throw std::runtime_error("comm: rank " + std::to_string(rank_) + " computes on CUDA device " + std::to_string(a.device) +
                               ", but its NCCL device (its local rank) is " + std::to_string(device_) +
                               ": call comm::select_local_device at start-up, before any CUDA work, so that each rank "
                               "computes on a GPU of its own");
  }

  void check_root(const char* what, int root) const {
    if (root < 0 || root >= size_)
      throw std::invalid_argument(std::string(what) + ": root " + std::to_string(root) + " outside the world of " +
                                  std::to_string(size_));
  }

  // NCCL reads device memory only (a host pointer would fault inside its kernels, far from here).
  void check_buffer(const char* what, const void* p) const {
    if (!p) throw std::invalid_argument(std::string(what) + ": null buffer");
    cudaPointerAttributes a{};
    check_cuda("cudaPointerGetAttributes", cudaPointerGetAttributes(&a, p));
    const bool on_device = a.type == cudaMemoryTypeDevice || a.type == cudaMemoryTypeManaged;
    if (!on_device || a.device != device_)
      throw std::invalid_argument(std::string(what) + ": the NCCL communicator takes memory of CUDA device " +
                                  std::to_string(device_) + ", got " +
                                  (on_device ? "memory of device " + std::to_string(a.device) : std::string("host memory")));
  }

  Handle start_reduce(const char* what, void* buf, int64_t count, Elem e) {
    if (count > 0) check_buffer("all_reduce", buf);
    return start(what, count, [&] {
      check_nccl("ncclAllReduce", ncclAllReduce(buf, buf, static_cast<size_t>(count), type_of(e), ncclSum, comm_, stream_));
    });
  }

  // Enqueues a collective behind the producers' work and closes it with an event. An empty one
  // (count 0, the same on every rank) enqueues nothing but still gets its handle.
  template <class Enqueue>
  Handle start(const char* what, int64_t count, Enqueue&& enqueue) {
    if (count < 0) throw std::invalid_argument(std::string(what) + ": negative element count " + std::to_string(count));
    int current = -1;
    check_cuda("cudaGetDevice", cudaGetDevice(&current));
    if (current != device_)
      throw std::logic_error(std::string(what) + ": the current CUDA device is " + std::to_string(current) +
                             ", but this NCCL communicator was made on device " + std::to_string(device_));
    // An event on the legacy default stream completes after all work queued so far on the
    // device's blocking streams (gradscope's ops_cuda stream is one: cudaStreamDefault); the
    // collective's stream waits for it, so a buffer written by a kernel is read after that kernel.
    check_cuda("cudaEventRecord", cudaEventRecord(fence_, cudaStreamLegacy));
    check_cuda("cudaStreamWaitEvent", cudaStreamWaitEvent(stream_, fence_, 0));
    if (count > 0) enqueue();
    cudaEvent_t done = nullptr;
    if (free_events_.empty()) {
      check_cuda("cudaEventCreateWithFlags", cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
    } else {
      done = free_events_.back();
      free_events_.pop_back();
    }
    const cudaError_t rec = cudaEventRecord(done, stream_);
    if (rec != cudaSuccess) {
      free_events_.push_back(done);
      check_cuda("cudaEventRecord", rec);
    }
    pending_.emplace(next_, Pending{done, what, count});
    return next_++;
  }

  // Polls until the collective's event fires; a timeout or an asynchronous NCCL error ends the job.
  void poll(const Pending& p) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int spins = 0;; ++spins) {
      const cudaError_t q = cudaEventQuery(p.done);
      if (q == cudaSuccess) return;
      if (q != cudaErrorNotReady) check_cuda("cudaEventQuery", q);
      ncclResult_t async = ncclSuccess;
      check_nccl("ncclCommGetAsyncError", ncclCommGetAsyncError(comm_, &async));
      const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (async != ncclSuccess && async != ncclInProgress) abort_job(p, waited, async);
      if (waited > timeout_) abort_job(p, waited, ncclSuccess);
      // spin briefly (a bucket's sum takes about a millisecond), then yield the core
      if (spins > 1000) std::this_thread::sleep_for(std::chrono::microseconds(spins > 100000 ? 1000 : 50));
    }
  }

  // One line naming the rank, the collective and its size (the MPI world's wording), then the
  // communicator is aborted (it frees the GPU's pending NCCL work) and the job ends.
  [[noreturn]] void abort_job(const Pending& p, double waited, ncclResult_t error) {
    if (error != ncclSuccess) {
      const char* last = ncclGetLastError(comm_);
      std::fprintf(stderr, "gradscope: rank %d of %d: NCCL %s of %lld elements failed after %.0f s: %s%s%s%s: aborting the job\n",
                   rank_, size_, p.what, static_cast<long long>(p.count), waited, ncclGetErrorString(error),
                   last && *last ? " (" : "", last && *last ? last : "", last && *last ? ")" : "");
    } else {
      std::fprintf(stderr,
                   "gradscope: rank %d of %d: NCCL %s of %lld elements timed out after %.0f s waiting for the other ranks "
                   "(one died or stopped calling collectives; GRADSCOPE_COMM_TIMEOUT_S sets the limit): aborting the job\n",
                   rank_, size_, p.what, static_cast<long long>(p.count), waited);
    }
    std::fflush(stderr);
    if (comm_) (void)ncclCommAbort(comm_);
    comm_ = nullptr;
    end_job();
  }

  // Errors are ignored here: this runs from the destructor or while an exception unwinds.
  void release() noexcept {
    if (comm_) {
      if (pending_.empty()) {
        (void)cudaStreamSynchronize(stream_);
        (void)ncclCommDestroy(comm_);
      } else {
        (void)ncclCommAbort(comm_);  // a collective nobody waited for may never finish
      }
      comm_ = nullptr;
    }
    for (auto& [h, p] : pending_) (void)cudaEventDestroy(p.done);
    pending_.clear();
    for (cudaEvent_t ev : free_events_) (void)cudaEventDestroy(ev);
    free_events_.clear();
    if (fence_) (void)cudaEventDestroy(fence_);
    if (stream_) (void)cudaStreamDestroy(stream_);
    if (scratch_) (void)cudaFree(scratch_);
    fence_ = nullptr;
    stream_ = nullptr;
    scratch_ = nullptr;
  }

  int rank_ = 0, size_ = 1, device_ = -1;
  double timeout_ = 600;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t fence_ = nullptr;
  void* scratch_ = nullptr;  // one int64 on the device, for barrier()
  std::map<Handle, Pending> pending_;
  std::vector<cudaEvent_t> free_events_;
  Handle next_ = 1;
};

}  // namespace

int nccl_local_device(const Communicator& world) {
  int count = 0;
  check_cuda("cudaGetDeviceCount", cudaGetDeviceCount(&count));
  if (count < 1) throw std::runtime_error("comm: the NCCL communicator needs a CUDA device, and none is present");
  const int local = local_rank_from_env();
  if (local < 0) return world.rank() % count;
  if (local >= count)
    throw std::runtime_error("comm: rank " + std::to_string(world.rank()) + " is local rank " + std::to_string(local) +
                             " on a node with " + std::to_string(count) +
                             " CUDA device(s): start at most one rank per GPU (NCCL cannot share one between ranks)");
  return local;
}

int select_local_device(const Communicator& world) {
  const int d = nccl_local_device(world);
  check_cuda("cudaSetDevice", cudaSetDevice(d));
  return d;
}

std::unique_ptr<Communicator> make_nccl(Communicator& host_world, const void* resident) {
  return std::make_unique<Nccl>(host_world, resident);
}

}  // namespace gs::comm
