#include "demos/cli/ranks.h"

#include <exception>
#include <stdexcept>
#include <string>

namespace gs::cli {

comm::Communicator& ranks() { return comm::world(); }

bool is_root() { return ranks().is_root(); }

void check_batch_splits(int64_t batch) {
  const int R = ranks().size();
  if (batch % R != 0)
    throw std::runtime_error("option --batch: " + std::to_string(batch) + " sequences do not split over the " +
                             std::to_string(R) + " processes of mpirun (each takes batch / " + std::to_string(R) +
                             "): pass a multiple of " + std::to_string(R));
}

void checks_on_root(const std::function<void()>& checks) {
  comm::Communicator& w = ranks();
  std::exception_ptr failed;
  if (w.is_root()) {
    try {
      checks();
    } catch (...) {
      failed = std::current_exception();
    }
  }
  if (w.size() == 1) {
    if (failed) std::rethrow_exception(failed);
    return;
  }
  int64_t bad = failed ? 1 : 0;
  w.broadcast(&bad, 1, comm::Elem::i64, 0);
  if (failed) std::rethrow_exception(failed);
  if (bad) throw std::runtime_error("rank 0 refused the outputs (its message says why)");
}

}  // namespace gs::cli
