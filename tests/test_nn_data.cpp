// Text data (nn/data.h): byte tokenizer, token-stream windows (random and shuffled epochs), text
// files and the default fortunes corpus.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <random>
#include <set>

#include "nn/data.h"
#include "tensor/ops.h"
#include "tests/temp_dir.h"

using namespace gs;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
namespace fs = std::filesystem;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const gs::Error& e) {
    return e.what();
  }
  return "<no gs::Error thrown>";
}

// Tokens 0, 1, ..., n-1: a window's first input token is its start, so windows are identifiable.
nn::TokenStream counting_stream(int64_t n) {
  std::vector<int64_t> t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), 0);
  return nn::TokenStream(t, n);
}

// Checks that each row is a run start, start+1, ... and targets are inputs shifted by one; returns the starts.
std::vector<int64_t> starts_of(const nn::Batch& b, int64_t T) {
  REQUIRE(b.inputs.dtype() == kInt64);
  REQUIRE(b.inputs.shape() == b.targets.shape());
  REQUIRE(b.inputs.size(1) == T);
  const auto x = b.inputs.to_vector<int64_t>(), y = b.targets.to_vector<int64_t>();
  std::vector<int64_t> starts;
  for (int64_t r = 0; r < b.inputs.size(0); ++r) {
    starts.push_back(x[r * T]);
    for (int64_t t = 0; t < T; ++t) {
      REQUIRE(x[r * T + t] == x[r * T] + t);
      REQUIRE(y[r * T + t] == x[r * T + t] + 1);
    }
  }
  return starts;
}

}  // namespace

TEST_CASE("byte tokenizer round trips every byte and rejects tokens outside 0..255", "[nn][data]") {
  nn::ByteTokenizer tok;
  CHECK(tok.vocab_size() == 256);
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  const auto ids = tok.encode(all);
  REQUIRE(ids.size() == 256);
  for (int i = 0; i < 256; ++i) CHECK(ids[i] == i);  // bytes are unsigned: 0xff -> 255
  CHECK(tok.decode(ids) == all);

  const std::string utf8 = "na\xc3\xafve caf\xc3\xa9\n";
  CHECK(tok.encode(utf8).size() == utf8.size());  // bytes, not code points
  CHECK(tok.decode(tok.encode(utf8)) == utf8);
  CHECK(tok.decode(from_vector<int64_t>({104, 105}, Shape{1, 2})) == "hi");

  CHECK_THROWS_WITH(tok.decode(std::vector<int64_t>{65, 256}),
                    "byte tokenizer: token id 256 out of range [0, 256) (position 1)");
  CHECK_THROWS_WITH(tok.decode(std::vector<int64_t>{-1}), Contains("token id -1 out of range"));
}

TEST_CASE("TokenStream::sample is deterministic given a seed and windows never cross the end", "[nn][data]") {
  const int64_t T = 6;
  const auto s = counting_stream(20);  // valid starts: 0 .. 20 - 6 - 1 = 13
  Generator g1(11), g2(11), g3(12);
  const auto a = s.sample(32, T, g1), b = s.sample(32, T, g2), c = s.sample(32, T, g3);
  CHECK(a.inputs.shape() == Shape{32, T});
  CHECK(a.inputs.to_vector<int64_t>() == b.inputs.to_vector<int64_t>());
  CHECK(a.targets.to_vector<int64_t>() == b.targets.to_vector<int64_t>());
  CHECK(a.inputs.to_vector<int64_t>() != c.inputs.to_vector<int64_t>());

  // Many draws: every start lands in [0, 13] and each of them, the last included, is reached.
  std::set<int64_t> seen;
  Generator g(5);
  for (int i = 0; i < 50; ++i)
    for (int64_t st : starts_of(s.sample(16, T, g), T)) {
      REQUIRE(st >= 0);
      REQUIRE(st + T <= s.size() - 1);  // the last target is the stream's last token at most
      seen.insert(st);
    }
  CHECK(seen.size() == 14);

  // Exactly T + 1 tokens allow one window; fewer is an error that says why.
  const auto tight = counting_stream(T + 1);
  CHECK(starts_of(tight.sample(4, T, g), T) == std::vector<int64_t>(4, 0));
  CHECK_THAT(error_of([&] { counting_stream(T).sample(1, T, g); }),
             StartsWith("TokenStream::sample: T = 6 needs at least 7 tokens") && Contains("the stream has 6"));
  CHECK_THAT(error_of([&] { s.sample(0, T, g); }), Contains("B and T must be positive"));
  CHECK_THAT(error_of([&] { nn::TokenStream({1, 2, 300}); }), Contains("token 300 at position 2 is outside [0, 256)"));
  CHECK(starts_of(s.window(13, T), T) == std::vector<int64_t>{13});
  CHECK_THAT(error_of([&] { s.window(14, T); }), Contains("runs past the stream of 20 tokens"));
}

TEST_CASE("an epoch visits every non-overlapping window once in a seeded shuffled order", "[nn][data]") {
  const int64_t T = 4, B = 3;
  const auto s = counting_stream(30);  // windows at 0, 4, ..., 24: (30 - 1) / 4 = 7 of them
  REQUIRE(s.window_count(T) == 7);
  Generator g1(3), g2(3), g3(4);
  auto e1 = s.epoch(B, T, g1), e2 = s.epoch(B, T, g2), e3 = s.epoch(B, T, g3);
  CHECK(e1.starts() == e2.starts());
  CHECK(e1.starts() != e3.starts());
  auto sorted = e1.starts();
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == std::vector<int64_t>{0, 4, 8, 12, 16, 20, 24});

  // drop_last: 2 full batches, the 7th window is skipped; the batches follow starts() order.
  CHECK(e1.batch_count() == 2);
  std::vector<int64_t> visited;
  int batches = 0;
  for (const nn::Batch& b : e1) {
    CHECK(b.inputs.shape() == Shape{B, T});
    for (int64_t st : starts_of(b, T)) {
      REQUIRE(st + T <= s.size() - 1);
      visited.push_back(st);
    }
    ++batches;
  }
  CHECK(batches == 2);
  CHECK(visited == std::vector<int64_t>(e1.starts().begin(), e1.starts().begin() + 6));

  // Without drop_last the last batch holds the one window left over.
  Generator g4(3);
  auto e4 = s.epoch(B, T, g4, /*drop_last=*/false);
  CHECK(e4.batch_count() == 3);
  std::vector<int64_t> rows;
  while (auto b = e4.next()) rows.push_back(b->inputs.size(0));
  CHECK(rows == std::vector<int64_t>{3, 3, 1});

  Generator g5(0);
  CHECK_THAT(error_of([&] { counting_stream(9).epoch(3, T, g5); }),
             StartsWith("TokenStream::epoch: the stream holds 2 windows of T = 4, fewer than one batch of B = 3"));
}

TEST_CASE("load_text_file reads bytes and explains a missing or empty file", "[nn][data]") {
  testing::TempDir tmp("gs_data_test_");
  const std::string text = "line one\nline \xc3\xa9\n";
  std::ofstream(tmp / "a.txt", std::ios::binary) << text;
  CHECK(nn::load_text_file(tmp / "a.txt") == text);
  std::ofstream(tmp / "empty.txt").close();
  CHECK(error_of([&] { nn::load_text_file(tmp / "empty.txt"); }) == tmp / "empty.txt: the text file is empty");
  CHECK_THAT(error_of([&] { nn::load_text_file(tmp / "nope.txt"); }),
             StartsWith(tmp / "nope.txt: cannot open") && Contains("No such file"));
  CHECK_THAT(error_of([&] { nn::load_text_file(tmp.dir.string()); }), Contains("is a folder"));
}

TEST_CASE("the default corpus is Debian's fortunes text, or an error that says to run scripts/setup",
          "[nn][data]") {
  CHECK_THAT(error_of([] { nn::default_corpus("/nonexistent/fortunes"); }),
             StartsWith("default_corpus: no fortune files in /nonexistent/fortunes") && Contains("run scripts/setup"));

  // scripts/setup installs the fortunes package; this fails on a machine where it was not run.
  const auto files = nn::default_corpus_files();
  INFO("no files in " << nn::kFortunesDir << ": run scripts/setup");
  REQUIRE(files.size() >= 10);
  for (const auto& f : files) {
    CHECK(fs::path(f).extension() != ".dat");
    CHECK(fs::path(f).extension() != ".u8");
  }
  CHECK(std::is_sorted(files.begin(), files.end()));
  const std::string text = nn::default_corpus();
  CHECK(text.size() > 1'000'000);  // about 2.4 MB of English text in Debian 12's fortunes
  CHECK(text.find("\n%\n") != std::string::npos);  // fortunes are separated by lines holding "%"
  nn::ByteTokenizer tok;
  const nn::TokenStream s(tok.encode(text));
  CHECK(s.size() == static_cast<int64_t>(text.size()));
  Generator g(1);
  CHECK(tok.decode(s.sample(1, 64, g).inputs).size() == 64);
}
