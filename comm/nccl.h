#pragma once
// The NCCL communicator: the collectives of comm/communicator.h on CUDA device buffers, one GPU
// per rank. Built when the CUDA backend and MPI both are (nccl_available()); in other builds
// these functions exist and throw std::runtime_error saying so, so callers need no #ifdef.
//
// Made the way llm.c makes it: rank 0 draws an ncclUniqueId, a host world (the MPI world) carries
// it to every rank, each rank selects its local GPU and calls ncclCommInitRank. Every collective
// runs on a stream of its own. Before it starts, that stream waits for the work already queued on
// every blocking CUDA stream of the device (an event recorded on the legacy default stream), which
// covers gradscope's own ops_cuda stream: a buffer filled by a kernel is summed only after that
// kernel. wait() returns once the collective has finished on the device, so work queued after it
// sees the result. Buffers must be device memory of this rank's GPU (checked; host memory throws).
// Same timeout as the host collectives (GRADSCOPE_COMM_TIMEOUT_S): a collective that does not
// finish in time, or an asynchronous NCCL error, prints one line naming the rank, the collective
// and its element count, aborts the NCCL communicator and ends the job (MPI_Abort). Not covered by
// the timeout: ncclCommInitRank and NCCL's lazy connection set-up inside the first collectives,
// which block inside NCCL until the peers arrive (a dead peer there is reported by mpirun).
#include <memory>

#include "comm/communicator.h"

namespace gs::comm {

// The GPU this rank uses: its rank on its node (OMPI_COMM_WORLD_LOCAL_RANK), or world.rank()
// modulo the device count when the launcher does not say. Throws when no device is present or
// the node has fewer devices than local ranks.
int nccl_local_device(const Communicator& world);
// Makes nccl_local_device(world) the calling thread's current device (cudaSetDevice) and
// returns it. Call at start-up, before any other CUDA work of the process (gradscope's CUDA
// backend allocates on, and creates its stream for, the device current at its first use).
int select_local_device(const Communicator& world);
// The NCCL communicator over the ranks of host_world (rank and size are host_world's; its
// broadcast carries the id, so every rank must call this together). Selects the local device.
// resident: null, or a device pointer this rank already computes with (a parameter); then it must
// lie on the local device, otherwise every rank throws before NCCL starts, naming the devices and
// select_local_device. Errors of CUDA and NCCL calls throw std::runtime_error naming the call.
std::unique_ptr<Communicator> make_nccl(Communicator& host_world, const void* resident = nullptr);

}  // namespace gs::comm
