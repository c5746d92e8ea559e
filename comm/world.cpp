#include <cstdlib>
#include <stdexcept>
#include <string>

#include "comm/communicator.h"
#include "comm/mpi_world.h"

namespace gs::comm {
namespace {

bool launched_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

}  // namespace

double timeout_seconds() {
  static const double s = [] {
    const char* env = std::getenv("GRADSCOPE_COMM_TIMEOUT_S");
    if (!env || !*env) return 600.0;
    char* end = nullptr;
    const double v = std::strtod(env, &end);
    if (*end != '\0' || !(v > 0))
      throw std::invalid_argument(std::string("GRADSCOPE_COMM_TIMEOUT_S: '") + env + "' is not a positive number of seconds");
    return v;
  }();
  return s;
}

bool mpi_available() {
#ifdef GRADSCOPE_HAVE_MPI
  return true;
#else
  return false;
#endif
}

bool nccl_available() {
#ifdef GRADSCOPE_HAVE_NCCL
  return true;
#else
  return false;
#endif
}

Communicator& world() {
  // Never destroyed: MPI is finalised by its own atexit handler (comm/mpi.cpp).
  static Communicator* w = [] {
#ifdef GRADSCOPE_HAVE_MPI
    if (launched_by_mpirun()) return detail::make_mpi_world().release();
#else
    if (launched_by_mpirun() && std::getenv("OMPI_COMM_WORLD_SIZE") && std::string(std::getenv("OMPI_COMM_WORLD_SIZE")) != "1")
      throw std::runtime_error("comm: started by mpirun with several processes, but this build has no MPI "
                               "(install libopenmpi-dev, scripts/setup does, and reconfigure with -DGRADSCOPE_MPI=ON)");
#endif
    return make_single().release();
  }();
  return *w;
}

}  // namespace gs::comm
