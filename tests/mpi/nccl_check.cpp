// The NCCL communicator on real GPUs, run by scripts/device_check as `mpirun -np N nccl_check`
// (one rank per GPU; built only with NCCL and never a ctest: the build machine has no GPU).
// Known device buffers, every result checked on every rank against integers or sums computed on
// the host: all_reduce (float64, float32, int64, a 32 MB float32 buffer), a sum started right
// behind copies still queued on a blocking stream (the fence on the producers' work), broadcast
// from every root, gather to the first and the last rank, two nonblocking sums waited in reverse
// order, barrier, and a host buffer refused. With the argument "timeout" (2 ranks or more), rank
// 1 skips a sum: rank 0 must end the job with the timeout line (GRADSCOPE_COMM_TIMEOUT_S small).
#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "comm/communicator.h"
#include "comm/nccl.h"

using gs::comm::Elem;

namespace {

void cuda_ok(const char* call, cudaError_t e) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(call) + ": " + cudaGetErrorString(e));
}

// A device copy of a host vector, read back with get().
template <class T>
class DeviceVec {
 public:
  explicit DeviceVec(const std::vector<T>& host) : n_(host.size()) {
    cuda_ok("cudaMalloc", cudaMalloc(&p_, bytes()));
    cuda_ok("cudaMemcpy", cudaMemcpy(p_, host.data(), bytes(), cudaMemcpyHostToDevice));
  }
  ~DeviceVec() { (void)cudaFree(p_); }
  DeviceVec(const DeviceVec&) = delete;
  DeviceVec& operator=(const DeviceVec&) = delete;
  T* get() const { return static_cast<T*>(p_); }
  int64_t count() const { return static_cast<int64_t>(n_); }
  size_t bytes() const { return n_ * sizeof(T); }
  std::vector<T> host() const {
    std::vector<T> h(n_);
    cuda_ok("cudaMemcpy", cudaMemcpy(h.data(), p_, bytes(), cudaMemcpyDeviceToHost));
    return h;
  }

 private:
  void* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace

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
  try {
    const int device = gs::comm::select_local_device(w);
    auto nc = gs::comm::make_nccl(w);
    gs::comm::Communicator& c = *nc;
    check(std::strcmp(c.backend(), "nccl") == 0, "backend is nccl");
    check(c.rank() == r && c.size() == n, "rank and size are the host world's");

    if (argc > 1 && std::strcmp(argv[1], "timeout") == 0) {
      DeviceVec<double> x(std::vector<double>{1.0});
      if (r == 0) c.all_reduce_sum(x.get(), 1, Elem::f64);  // rank 1 never joins
      else std::this_thread::sleep_for(std::chrono::seconds(60));
      return 0;  // not reached on rank 0: the collective ends the job
    }

    // all_reduce with sums known in closed form
    {
      std::vector<double> d(1000);
      for (size_t i = 0; i < d.size(); ++i) d[i] = 0.5 * double(i) + r;  // sum: n (0.5 i) + n (n - 1) / 2
      DeviceVec<double> dd(d);
      c.all_reduce_sum(dd.get(), dd.count(), Elem::f64);
      const auto got = dd.host();
      bool ok = true;
      for (size_t i = 0; i < got.size(); ++i) ok = ok && got[i] == n * 0.5 * double(i) + n * (n - 1) / 2.0;
      check(ok, "all_reduce f64");
      DeviceVec<float> f(std::vector<float>{float(r + 1), 2.0f});
      c.all_reduce_sum(f.get(), 2, Elem::f32);
      const auto fh = f.host();
      check(fh[0] == float(n * (n + 1) / 2) && fh[1] == 2.0f * float(n), "all_reduce f32");
      DeviceVec<int64_t> k(std::vector<int64_t>{int64_t{1} << (40 + r)});
      c.all_reduce_sum(k.get(), 1, Elem::i64);
      check(k.host()[0] == (int64_t{1} << 40) * ((int64_t{1} << n) - 1), "all_reduce i64");
    }

    // 32 MB of float32, small integers (exact sums), and the same sum started right behind copies
    // still queued on a blocking stream, as gradscope's kernels are: the fence must hold it back.
    {
      const size_t m = size_t{8} << 20;
      std::vector<float> v(m);
      for (size_t i = 0; i < m; ++i) v[i] = float(i % 1024) + float(r);
      auto expected = [&](size_t i) { return float(n) * float(i % 1024) + float(n * (n - 1) / 2); };
      DeviceVec<float> big(v);
      c.all_reduce_sum(big.get(), big.count(), Elem::f32);
      auto got = big.host();
      bool ok = true;
      for (size_t i = 0; i < m; ++i) ok = ok && got[i] == expected(i);
      check(ok, "all_reduce of 32 MB f32");

      DeviceVec<float> source(v), target(std::vector<float>(m, -1.0f));
      cudaStream_t producer = nullptr;
      cuda_ok("cudaStreamCreateWithFlags", cudaStreamCreateWithFlags(&producer, cudaStreamDefault));
      for (int rep = 0; rep < 64; ++rep)  // milliseconds of queued copies, the last one leaving v
        cuda_ok("cudaMemcpyAsync",
                cudaMemcpyAsync(target.get(), source.get(), target.bytes(), cudaMemcpyDeviceToDevice, producer));
      c.all_reduce_sum(target.get(), target.count(), Elem::f32);  // no synchronisation in between
      got = target.host();
      ok = true;
      for (size_t i = 0; i < m; ++i) ok = ok && got[i] == expected(i);
      check(ok, "all_reduce ordered after the work queued on a blocking stream");
      cuda_ok("cudaStreamDestroy", cudaStreamDestroy(producer));
    }

    // broadcast from every root
    for (int root = 0; root < n; ++root) {
      DeviceVec<double> b(std::vector<double>{double(r), double(r) * 2});
      c.broadcast(b.get(), 2, Elem::f64, root);
      const auto h = b.host();
      check(h[0] == root && h[1] == 2.0 * root, "broadcast");
    }

    // gather to the first and to the last rank
    for (int root : {0, n - 1}) {
      DeviceVec<int64_t> mine(std::vector<int64_t>{r * 10, r * 10 + 1});
      DeviceVec<int64_t> all(std::vector<int64_t>(2 * static_cast<size_t>(n), -1));
      c.gather(mine.get(), 2, Elem::i64, r == root ? all.get() : nullptr, root);
      if (r == root) {
        std::vector<int64_t> want;
        for (int q = 0; q < n; ++q) want.insert(want.end(), {q * 10, q * 10 + 1});
        check(all.host() == want, "gather");
      }
    }

    // two nonblocking sums, waited in the reverse order of their start
    {
      DeviceVec<double> a(std::vector<double>(4096, double(r))), b(std::vector<double>(17, 1.0));
      const auto ha = c.start_all_reduce_sum(a.get(), a.count(), Elem::f64);
      const auto hb = c.start_all_reduce_sum(b.get(), b.count(), Elem::f64);
      c.wait(hb);
      c.wait(ha);
      bool ok = true;
      for (double x : a.host()) ok = ok && x == n * (n - 1) / 2.0;
      for (double x : b.host()) ok = ok && x == double(n);
      check(ok, "nonblocking all_reduce, waited in reverse order");
      bool threw = false;
      try {
        c.wait(ha);  // already waited
      } catch (const std::invalid_argument&) {
        threw = true;
      }
      check(threw, "wait on a finished handle throws");
    }

    // host memory is refused before anything is enqueued (on every rank alike)
    {
      double host = 1.0;
      bool threw = false;
      try {
        c.all_reduce_sum(&host, 1, Elem::f64);
      } catch (const std::invalid_argument&) {
        threw = true;
      }
      check(threw, "a host buffer is refused");
    }

    c.barrier();
    if (r == 0 && bad == 0) {
      cudaDeviceProp prop{};
      cuda_ok("cudaGetDeviceProperties", cudaGetDeviceProperties(&prop, device));
      std::printf("nccl_check: %d ranks (%s), all collectives correct\n", n, prop.name);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d: nccl_check: %s\n", r, e.what());
    return 1;
  }
  return bad == 0 ? 0 : 1;
}
