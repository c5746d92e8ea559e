// comm/: the world of one process (what every test run outside mpirun sees) and the argument
// checks; the MPI world's collectives are checked with 2 ranks by tests/mpi/comm_check.cpp (ctest
// runs it under mpirun when the build has MPI).
#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include "comm/communicator.h"

using gs::comm::Elem;

TEST_CASE("comm: outside mpirun the world is one process and every collective is the identity", "[comm]") {
  gs::comm::Communicator& w = gs::comm::world();
  CHECK(w.size() == 1);
  CHECK(w.rank() == 0);
  CHECK(w.is_root());
  CHECK(std::string(w.backend()) == "single");
  std::vector<double> x{1.5, -2.0, 3.25};
  w.all_reduce_sum(x.data(), 3, Elem::f64);
  CHECK(x == std::vector<double>{1.5, -2.0, 3.25});
  w.broadcast(x.data(), 3, Elem::f64, 0);
  CHECK(x == std::vector<double>{1.5, -2.0, 3.25});
  std::vector<int64_t> in{7, 8}, out(2, 0);
  w.gather(in.data(), 2, Elem::i64, out.data(), 0);
  CHECK(out == in);
  w.barrier();
  CHECK_THROWS_WITH(w.broadcast(x.data(), 3, Elem::f64, 1), "broadcast: root 1 in a world of 1");
  CHECK(gs::comm::elem_size(Elem::f32) == 4);
  CHECK(gs::comm::elem_size(Elem::i64) == 8);
}
