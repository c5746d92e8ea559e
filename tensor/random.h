#pragma once
// Generator: an explicit, seeded random source. Reproducible bit for bit across runs and
// platforms (xoshiro256** seeded by splitmix64; normals by Box-Muller, no std:: distributions,
// whose output is implementation-defined). Its state can be saved and restored (checkpoints).
#include <array>
#include <cstdint>

namespace gs {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x9E3779B97F4A7C15ull) { seed_with(seed); }
  void seed_with(uint64_t seed);

  uint64_t next_u64();
  double uniform();        // [0, 1), 53 random bits
  double normal();         // standard normal
  int64_t randint(int64_t n);  // uniform in [0, n), n > 0, unbiased

  struct State {
    std::array<uint64_t, 4> s;
    double cached_normal;
    bool has_cached;
  };
  State state() const { return {s_, cached_, has_cached_}; }
  void set_state(const State& st) {
    s_ = st.s;
    cached_ = st.cached_normal;
    has_cached_ = st.has_cached;
  }

 private:
  std::array<uint64_t, 4> s_{};
  double cached_ = 0;
  bool has_cached_ = false;
};

}  // namespace gs
