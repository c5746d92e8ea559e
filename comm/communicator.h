#pragma once
// Collectives across processes: the communicator data-parallel training and the head metrics use
// (DESIGN.md: it depends on nothing of ours and sits at the bottom beside the kernels, so it works
// on raw buffers and element counts, like them).
//
//   Single  a world of one process: every collective is the identity (gather copies).
//   Mpi     Open MPI (or any MPI-3 library) when the build found it (GRADSCOPE_MPI) and the
//           process was started by mpirun: MPI_COMM_WORLD, one rank per process.
//   Nccl    NCCL on CUDA device buffers (comm/nccl.h), made from a host world; built when both
//           the CUDA backend and MPI are (nccl_available()). Never picked by world().
// world() picks: an MPI world when MPI is compiled in and the launcher's environment says so
// (OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK), the single world otherwise, so the same binary
// runs alone or under `mpirun -np N` with no flag.
//
// Every collective has a timeout (GRADSCOPE_COMM_TIMEOUT_S, default 600 s; read once): a rank that
// waits longer for the others (one died, or stopped calling collectives) prints one line naming
// its rank, the collective and the wait to stderr and aborts the whole job (MPI_Abort), instead of
// hanging. A rank that crashes is reported by mpirun itself, which then stops the others.
#include <cstdint>
#include <memory>
#include <string>

namespace gs::comm {

enum class Elem { f32, f64, i64 };
size_t elem_size(Elem e);

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const char* backend() const = 0;  // "single" | "mpi" | "nccl"

  // buf[0, count) <- the elementwise sum of every rank's buf (every rank receives it).
  virtual void all_reduce_sum(void* buf, int64_t count, Elem e) = 0;
  // buf[0, count) <- root's buf.
  virtual void broadcast(void* buf, int64_t count, Elem e, int root) = 0;
  // out[r * count, (r + 1) * count) <- rank r's in, on root only (out may be null elsewhere).
  virtual void gather(const void* in, int64_t count, Elem e, void* out, int root) = 0;
  virtual void barrier() = 0;

  // Nonblocking all_reduce_sum: starts the sum of buf over the ranks and returns at once; buf must
  // stay untouched until wait(handle) returns, which holds the same timeout as the blocking
  // collectives. progress() lets started collectives advance (MPI moves them only inside its
  // calls): call it now and then while computing. Every rank must start the same sequence.
  using Handle = int64_t;
  virtual Handle start_all_reduce_sum(void* buf, int64_t count, Elem e) = 0;
  virtual void wait(Handle h) = 0;
  virtual void progress() {}

  bool is_root() const { return rank() == 0; }
};

// The process's world (made at the first call; MPI is initialised then and finalised at exit).
Communicator& world();
// True when this build links MPI.
bool mpi_available();
// True when this build has the NCCL communicator (comm/nccl.h: the CUDA backend and MPI both
// found at configure time). Says nothing about a device being present.
bool nccl_available();
// A world of one, for tests and for code that must not talk to other ranks.
std::unique_ptr<Communicator> make_single();
// The collectives' timeout in seconds (GRADSCOPE_COMM_TIMEOUT_S; invalid values throw
// std::invalid_argument naming the variable).
double timeout_seconds();

}  // namespace gs::comm
