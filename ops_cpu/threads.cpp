#include "ops_cpu/threads.h"

#include <cblas.h>
#include <omp.h>

#include <cstdlib>
#include <thread>

namespace gs::cpu {
namespace {
int g_threads = 0;  // 0: not initialised yet

int initial_threads() {
  if (const char* env = std::getenv("GRADSCOPE_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}
}  // namespace

int num_threads() {
  if (g_threads == 0) set_num_threads(initial_threads());
  return g_threads;
}

void set_num_threads(int n) {
  g_threads = n > 0 ? n : 1;
  openblas_set_num_threads(g_threads);
  omp_set_num_threads(g_threads);
}

}  // namespace gs::cpu
