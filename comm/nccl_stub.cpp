// comm/nccl.h in a build without NCCL (no CUDA backend or no MPI): the entries exist, so callers
// need no #ifdef (they ask nccl_available() first), and throw saying what the build lacks.
#include <stdexcept>
#include <string>

#include "comm/nccl.h"

namespace gs::comm {
namespace {

[[noreturn]] void no_nccl(const char* what) {
  throw std::runtime_error(std::string(what) +
                           ": no NCCL communicator in this build (it needs the CUDA backend and MPI: configure with "
                           "-DGRADSCOPE_CUDA=ON on a machine with nvcc, NCCL and libopenmpi-dev)");
}

}  // namespace

int nccl_local_device(const Communicator&) { no_nccl("nccl_local_device"); }
int select_local_device(const Communicator&) { no_nccl("select_local_device"); }
std::unique_ptr<Communicator> make_nccl(Communicator&, const void*) { no_nccl("make_nccl"); }

}  // namespace gs::comm
