// gradscope tokenize (demos/cli/cmd_tokenize.cpp), run as the built binary: ids as one JSON array
// equal to the library's encode(), --decode giving the bytes back exactly, and bad input named
// with exit code 2 and nothing on stdout.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "temp_dir.h"
#include "tokenizer/tokenizer.h"

using namespace gs;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

std::string read_bytes(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Cli {
  fs::path exe = fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "gradscope";
  testing::TempDir tmp{"gs_tokenize_test_"};
  std::string out = tmp / "stdout", err = tmp / "stderr";
  int run(const std::string& args) const {
    const std::string cmd = exe.string() + " tokenize " + args + " > " + out + " 2> " + err;
    const int st = std::system(cmd.c_str());
    REQUIRE(WIFEXITED(st));
    return WEXITSTATUS(st);
  }
};

}  // namespace

TEST_CASE("tokenize: encode and --decode round-trip through the binary for both tokenizers", "[cli][tokenizer]") {
  Cli cli;
  INFO("expects the gradscope binary at " << cli.exe.string());
  REQUIRE(fs::exists(cli.exe));
  // CRLF, a tab, non-ASCII letters, an emoji and an invalid byte
  const std::string text = "Hello, w\xC3\xB6rld!\r\n\tIt's 2026 \xF0\x9F\x98\x80 caf\xE9\n";
  const std::string in = cli.tmp / "in.txt", ids_path = cli.tmp / "ids.json";
  std::ofstream(in, std::ios::binary) << text;
  for (const std::string name : {"byte", "gpt2"}) {
    INFO("tokenizer " << name);
    REQUIRE(cli.run("--tokenizer " + name + " " + in) == 0);
    const std::string printed = read_bytes(cli.out);
    CHECK(printed.back() == '\n');
    const auto ids = nlohmann::json::parse(printed).get<std::vector<int64_t>>();
    CHECK(ids == tok::make_tokenizer(name)->encode(text));
    std::ofstream(ids_path) << printed;
    REQUIRE(cli.run("--tokenizer " + name + " --decode " + ids_path) == 0);
    CHECK(read_bytes(cli.out) == text);
  }
  CHECK(cli.run("--tokenizer gpt2 - < " + in) == 0);  // standard input
  CHECK(nlohmann::json::parse(read_bytes(cli.out)).get<std::vector<int64_t>>() ==
        tok::make_tokenizer("gpt2")->encode(text));
}

TEST_CASE("tokenize: bad input is named, exits 2 and prints nothing on stdout", "[cli][tokenizer]") {
  Cli cli;
  REQUIRE(fs::exists(cli.exe));
  const std::string missing = cli.tmp / "missing.txt";
  CHECK(cli.run("--tokenizer gpt2 " + missing) == 2);
  CHECK(read_bytes(cli.err) == "gradscope tokenize: " + missing + ": cannot open: No such file or directory\n");
  CHECK(read_bytes(cli.out).empty());
  // a FIFO is refused at once (it used to block in open() until a writer came)
  const std::string fifo = cli.tmp / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(cli.run("--tokenizer byte " + fifo) == 2);
  CHECK(read_bytes(cli.err) == "gradscope tokenize: " + fifo + ": not a regular file (a FIFO, device or socket is not read)\n");
  CHECK(cli.run("--tokenizer bpe " + missing) == 2);
  CHECK_THAT(read_bytes(cli.err), Contains("unknown tokenizer 'bpe' (valid: byte, gpt2)"));
  const std::string bad = cli.tmp / "bad.json";
  std::ofstream(bad) << "[1, 2.5]";
  CHECK(cli.run("--tokenizer gpt2 --decode " + bad) == 2);
  CHECK_THAT(read_bytes(cli.err), Contains("element 1 is not an integer (2.5)"));
  std::ofstream(bad) << "[464, 50257]";
  CHECK(cli.run("--tokenizer gpt2 --decode " + bad) == 2);
  CHECK_THAT(read_bytes(cli.err), Contains("token id 50257 out of range [0, 50257) (position 1)"));
  CHECK(read_bytes(cli.out).empty());
  CHECK(cli.run("--tokenizer gpt2") == 2);
  CHECK_THAT(read_bytes(cli.err), Contains("give a FILE"));
  CHECK(cli.run("a.txt b.txt") == 2);
  CHECK_THAT(read_bytes(cli.err), Contains("unexpected argument 'b.txt'"));
}
