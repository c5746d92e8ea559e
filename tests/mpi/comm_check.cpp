// Run by ctest as `mpirun -np 2 comm_check` (tests/CMakeLists.txt) in builds with MPI: the MPI
// world's collectives with rank-dependent data, every result checked on every rank. With the
// argument "timeout", rank 1 skips a collective: rank 0 must end the job with the timeout message
// (GRADSCOPE_COMM_TIMEOUT_S=2 in that test's environment) instead of hanging.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "comm/communicator.h"

using gs::comm::Elem;

int main(int argc, char** argv) {
  gs::comm::Communicator& w = gs::comm::world();
  const int r = w.rank(), n = w.size();
  int bad = 0;
  auto check = [&](bool ok, const char* what) {
    if (!ok) {
      std::fprintf(stderr, "rank %d: FAILED %s\n", r, what);
      ++bad;
    }
  };
  check(std::strcmp(w.backend(), "mpi") == 0, "backend is mpi");
  check(n == 2, "two ranks");
  if (argc > 1 && std::strcmp(argv[1], "timeout") == 0) {
    double x = 1;
    if (r == 0) w.all_reduce_sum(&x, 1, Elem::f64);  // rank 1 never joins
    else std::this_thread::sleep_for(std::chrono::seconds(30));
    return 0;  // not reached on rank 0: the collective aborts the job
  }
  // all_reduce: float64, float32 and int64, with sums known in closed form
  std::vector<double> d(1000);
  for (size_t i = 0; i < d.size(); ++i) d[i] = 0.5 * double(i) + r;  // sum over ranks: n (0.5 i) + n(n-1)/2
  w.all_reduce_sum(d.data(), int64_t(d.size()), Elem::f64);
  bool ok = true;
  for (size_t i = 0; i < d.size(); ++i) ok = ok && d[i] == n * 0.5 * double(i) + n * (n - 1) / 2.0;
  check(ok, "all_reduce f64");
  std::vector<float> f{float(r + 1), 2.0f};
  w.all_reduce_sum(f.data(), 2, Elem::f32);
  check(f[0] == float(n * (n + 1) / 2) && f[1] == 2.0f * float(n), "all_reduce f32");
  int64_t k = int64_t{1} << (40 + r);
  w.all_reduce_sum(&k, 1, Elem::i64);
  check(k == (int64_t{1} << 40) + (int64_t{1} << 41), "all_reduce i64");
  // broadcast from each root
  for (int root = 0; root < n; ++root) {
    std::vector<double> b{double(r), double(r) * 2};
    w.broadcast(b.data(), 2, Elem::f64, root);
    check(b[0] == root && b[1] == 2.0 * root, "broadcast");
  }
  // gather to rank 0
  const std::vector<int64_t> mine{r * 10, r * 10 + 1};
  std::vector<int64_t> all(2 * n, -1);
  w.gather(mine.data(), 2, Elem::i64, r == 0 ? all.data() : nullptr, 0);
  if (r == 0) check(all == std::vector<int64_t>{0, 1, 10, 11}, "gather");
  w.barrier();
  if (r == 0 && bad == 0) std::printf("comm_check: %d ranks, all collectives correct\n", n);
  return bad == 0 ? 0 : 1;
}
