#pragma once
// Internal to comm/: the MPI world (comm/mpi.cpp, built only with MPI).
#include <memory>

#include "comm/communicator.h"

namespace gs::comm::detail {

std::unique_ptr<Communicator> make_mpi_world();

}  // namespace gs::comm::detail
