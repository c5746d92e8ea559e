// ops_cpu/index: concat_into against direct multi-index arithmetic.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "ops_cpu/index.h"

namespace {

// Concatenate inputs of shape [outer, len_k, inner] along the middle dim with concat_into and
// compare with out[o, L, i] = input_k[o, L - start_k, i] computed directly.
template <class T>
void check_concat(int64_t outer, int64_t inner, const std::vector<int64_t>& lens) {
  int64_t total = 0;
  for (auto l : lens) total += l;
  std::vector<std::vector<T>> ins;
  T counter = 1;
  for (auto l : lens) {
    std::vector<T> v(outer * l * inner);
    for (auto& e : v) e = counter++;
    ins.push_back(v);
  }
  std::vector<T> out(outer * total * inner, T(-1));
  int64_t off = 0;
  for (size_t k = 0; k < lens.size(); ++k) {
    gs::cpu::concat_into<T>(outer, inner, lens[k], total, off, ins[k].data(), out.data());
    off += lens[k];
  }
  std::vector<T> ref(out.size());
  for (int64_t o = 0; o < outer; ++o) {
    int64_t start = 0;
    for (size_t k = 0; k < lens.size(); ++k) {
      for (int64_t l = 0; l < lens[k]; ++l)
        for (int64_t i = 0; i < inner; ++i)
          ref[(o * total + start + l) * inner + i] = ins[k][(o * lens[k] + l) * inner + i];
      start += lens[k];
    }
  }
  CHECK(out == ref);  // pure copies: exact
}

}  // namespace

TEST_CASE("concat_into builds the concatenation along a middle dim", "[ops_cpu][index]") {
  check_concat<float>(3, 4, {2, 1, 3});
  check_concat<double>(2, 5, {1, 4});
  check_concat<int64_t>(4, 1, {3, 2, 2});   // last-dim concat: inner == 1
  check_concat<double>(1, 6, {2, 3});       // first-dim concat: outer == 1
  check_concat<float>(3, 2, {2, 0, 1});     // an empty input contributes nothing
}

TEST_CASE("concat_into on a large input takes the parallel path correctly", "[ops_cpu][index]") {
  check_concat<float>(400, 64, {1, 2});  // outer * len * inner > kParallelGrain for the second
}
