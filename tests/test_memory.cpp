// 1,000 forward+backward steps of a small model keep memory flat: no node and no buffer is
// leaked by the graph. Counted exactly (live nodes, live storage bytes) so the test also holds
// under AddressSanitizer, whose quarantine makes resident-set size meaningless; RSS is checked
// as well when not sanitized.
#include <catch2/catch.hpp>

#include <fstream>
#include <unistd.h>

#include "autograd/ops.h"
#include "tensor/ops.h"

using namespace gs;

namespace {
int64_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
}  // namespace

TEST_CASE("1,000 training steps leak no graph and no memory", "[memory]") {
  Generator gen(7);
  Tensor w1 = requires_grad(randn({32, 64}, gen, kFloat32, 0, 0.1));
  Tensor w2 = requires_grad(randn({64, 16}, gen, kFloat32, 0, 0.1));
  const Tensor x = randn({8, 32}, gen), t = randn({8, 16}, gen);
  auto step = [&] {
    Tensor h = gelu(matmul(x, w1));
    Tensor d = sub(matmul(h, w2), t);
    Tensor loss = mul(d, d);
    backward(loss, ones(loss.shape()));
    NoGradGuard ng;  // plain SGD update in place, outside the graph
    op::axpy_(w1, -1e-3, grad_of(w1));
    op::axpy_(w2, -1e-3, grad_of(w2));
    zero_grad(w1);
    zero_grad(w2);
  };
  for (int i = 0; i < 50; ++i) step();  // warm-up: allocator and thread pools settle
  const int64_t nodes0 = Node::live_count(), bytes0 = Storage::live_bytes(), rss0 = rss_bytes();
  for (int i = 0; i < 1000; ++i) step();
  REQUIRE(Node::live_count() == nodes0);
  REQUIRE(Storage::live_bytes() == bytes0);
  if (!kSanitized) {
    // one step allocates ~40 KB of tensors; a leak of one step's graph per step would be ~40 MB
    CHECK(rss_bytes() - rss0 < 8 * 1024 * 1024);
  }
}
