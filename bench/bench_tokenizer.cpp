// GPT-2 tokenizer speed on the Debian fortunes corpus (all data files, about 2.5 MB), one thread,
// in MB/s of input text:
//   cold  a fresh tokenizer (empty word cache) encodes the whole corpus once: the number that
//         matters when a corpus is tokenized once; load time of the vocabulary files reported apart
//   warm  the same tokenizer encodes it again (every piece cached): pre-tokenisation + lookups
// Beside it, when node is on PATH: the npm package gpt-3-encoder@1.1.4 (the correctness oracle)
// on the same text, run by bench/tokenizer_npm.js in parts (its encode() is quadratic in the input
// length; see scripts/golden/make_gpt2_tokens.js). Both timings are taken in this run.
// Usage: bench_tokenizer [--no-npm]
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "bench/timing.h"
#include "nn/data.h"
#include "tokenizer/gpt2.h"
#include "tokenizer/tokenizer.h"

using namespace gs;

int main(int argc, char** argv) {
  const bool npm = !(argc > 1 && std::strcmp(argv[1], "--no-npm") == 0);
  const std::string text = nn::default_corpus();
  const double mb = static_cast<double>(text.size()) / 1e6;
  std::printf("corpus: Debian fortunes, %zu bytes\n", text.size());

  const double t_load = bench::time_once([] { tok::Gpt2Tokenizer t(tok::gpt2_data_dir()); });
  std::vector<double> cold, warm;
  size_t n_tokens = 0;
  for (int rep = 0; rep < 3; ++rep) {
    tok::Gpt2Tokenizer t(tok::gpt2_data_dir());
    const double c0 = bench::thread_cpu_s();
    n_tokens = t.encode(text).size();
    cold.push_back(bench::thread_cpu_s() - c0);
    const double w0 = bench::thread_cpu_s();
    t.encode(text);
    warm.push_back(bench::thread_cpu_s() - w0);
  }
  const double cold_s = bench::median(cold), warm_s = bench::median(warm);
  std::printf("vocabulary load (parse + SHA-256 of encoder.json and vocab.bpe): %.3f s\n", t_load);
  std::printf("gradscope gpt2 encode, cold cache: %.3f s CPU = %.2f MB/s (%zu tokens)\n", cold_s, mb / cold_s, n_tokens);
  std::printf("gradscope gpt2 encode, warm cache: %.3f s CPU = %.2f MB/s\n", warm_s, mb / warm_s);

  if (npm && std::system("command -v node >/dev/null 2>&1") == 0) {
    const std::string script = (std::filesystem::path(__FILE__).parent_path() / "tokenizer_npm.js").string();
    std::fflush(stdout);
    FILE* p = popen(("node " + script).c_str(), "r");
    double npm_s = 0;
    size_t npm_tokens = 0;
    if (p && std::fscanf(p, "%lf %zu", &npm_s, &npm_tokens) == 2 && npm_s > 0) {
      std::printf("npm gpt-3-encoder encode (node): %.3f s = %.2f MB/s (%zu tokens%s)\n", npm_s, mb / npm_s,
                  npm_tokens, npm_tokens == n_tokens ? ", same count" : ", COUNT DIFFERS");
      std::printf("ratio gradscope cold / npm, MB/s: %.1f\n", npm_s / cold_s);
    } else {
      std::printf("npm gpt-3-encoder: not measured (bench/tokenizer_npm.js failed; npm registry reachable?)\n");
    }
    if (p) pclose(p);
  }
  return 0;
}
