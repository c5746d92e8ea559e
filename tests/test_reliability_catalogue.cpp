// The catalogue of bad inputs in docs/RELIABILITY.md, run row by row against the built gradscope
// binary. The table is the test's data: a row added there is tested here, and a row that no longer
// holds fails here, so the documentation cannot drift from what the CLI does.
//
// For every row: the placeholders ({tmp}, {text}, {ck}, ...) become paths of fixtures built below,
// the command runs as `timeout 60 gradscope <command line> < /dev/null` (a command that blocks on
// a FIFO or on standard input fails the row instead of hanging the suite), and the test checks
//   - the exit code is the row's;
//   - stderr starts with "gradscope <command>: " and its first line contains the row's fragment;
//   - the message is one line (an unknown option or stray argument may append the command's usage,
//     which starts with "usage: gradscope ", and nothing else);
//   - the row's own {tmp} folder and the working folder are still empty (a refused run leaves no
//     output folder, partial file or temp file behind);
// and after all rows, every fixture is byte-identical to before, no file appeared beside them (a
// stale "<target>.tmp.XXXXXX" of a save), {fifo} is still a FIFO and {folder} still empty.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "nn/checkpoint.h"
#include "nn/npy.h"
#include "nn/safetensors.h"
#include "tensor/creation.h"
#include "tensor/ops.h"
#include "tensor/random.h"
#include "tests/temp_dir.h"
#include "tokenizer/tokenizer.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// ---- the table ----------------------------------------------------------------------------------

struct Row {
  int number = 0;
  std::string command;   // without the leading "gradscope", placeholders unsubstituted
  std::string what;      // the description column (also carries the "needs GPT-2's files" marker)
  std::string fragment;  // what stderr must contain, placeholders unsubstituted
  int exit = 0;
  std::string line;      // the Markdown line, for messages
};

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// `text` -> text; anything else is a malformed cell (the test cannot know where the code starts).
std::string unquote(const std::string& cell, const std::string& line) {
  INFO("table line: " << line);
  REQUIRE(cell.size() >= 2);
  REQUIRE(cell.front() == '`');
  REQUIRE(cell.back() == '`');
  return cell.substr(1, cell.size() - 2);
}

// The rows of the one table under "## Bad inputs the tests try": lines "| <number> | ...". A '|'
// inside a cell would split it, so every row must have exactly five cells.
std::vector<Row> read_catalogue(const std::string& path) {
  std::ifstream in(path);
  INFO("reading " << path);
  REQUIRE(in.good());
  std::vector<Row> rows;
  bool in_section = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0) {
      in_section = trim(line) == "## Bad inputs the tests try";
      continue;
    }
    if (!in_section || line.size() < 3 || line.compare(0, 2, "| ") != 0 || !std::isdigit(static_cast<unsigned char>(line[2])))
      continue;
    std::vector<std::string> cells;
    std::string body = trim(line);
    REQUIRE(body.back() == '|');
    body = body.substr(1, body.size() - 2);  // drop the outer pipes
    size_t start = 0;
    while (true) {
      const size_t bar = body.find('|', start);
      cells.push_back(trim(body.substr(start, bar == std::string::npos ? std::string::npos : bar - start)));
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    INFO("table line: " << line);
    REQUIRE(cells.size() == 5);
    Row r;
    r.number = std::stoi(cells[0]);
    r.command = unquote(cells[1], line);
    r.what = cells[2];
    r.fragment = unquote(cells[3], line);
    r.exit = std::stoi(cells[4]);
    r.line = line;
    rows.push_back(r);
  }
  return rows;
}

// ---- small file helpers -------------------------------------------------------------------------

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? "(nothing)" : s;
}

// Runs a shell command; the exit code, or -1 when it did not exit normally (a signal).
int shell(const std::string& cmd) {
  const int st = std::system(cmd.c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// Sets element 0 of a floating tensor (a checkpoint's weights are float32 or float64).
void set_first(const gs::Tensor& t, double v) {
  REQUIRE(t.numel() > 0);
  if (t.dtype() == gs::kFloat32) t.data<float>()[0] = static_cast<float>(v);
  else t.data<double>()[0] = v;
}

bool gpt2_available() {
  try {
    gs::tok::make_tokenizer("gpt2");
    return true;
  } catch (const std::exception&) {
    return false;  // scripts/setup was not run here: rows that need GPT-2's files are skipped
  }
}

// ---- the fixtures -------------------------------------------------------------------------------

// About 4 KB of plain English: enough tokens for --seq-len 8 and for a few training steps.
std::string english_text() {
  const std::string paragraph =
      "The head of a language model maps a hidden state of width D to one logit for every token of the "
      "vocabulary. When the vocabulary is much larger than the hidden width, the head can express only a "
      "small part of the gradient that the loss sends to the logits, and the rest never reaches the "
      "backbone. This text exists only to give the tests something ordinary to read: a few sentences, "
      "repeated with a number, so that the byte tokenizer sees letters, spaces, commas and full stops.\n";
  std::string text;
  for (int i = 1; text.size() < 4000; ++i) text += "Paragraph " + std::to_string(i) + ". " + paragraph;
  return text;
}

// The training run that makes {ck}; docs/RELIABILITY.md quotes it, and its resume rows repeat
// these options so that each fails only on the one it changes.
const char* const kCheckpointArgs = "--d-model 8 --layers 1 --heads 2 --seq-len 8 --batch 2 --steps 2";

// A .npy file whose header claims shape (2^62,) of float64: 2^65 bytes, which wrap to 0 in 64-bit
// arithmetic. nn::save_npy cannot write it (the tensor cannot exist), so the bytes are written here
// the way NumPy lays them out: magic, version 1.0, header length, header padded to 64 bytes.
std::string huge_shape_npy() {
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>((header.size() >> 8) & 0xff);
  bytes += header;
  bytes += std::string(24, '\0');
  return bytes;
}

struct Fixtures {
  std::map<std::string, std::string> paths;  // placeholder name (without braces) -> path
  fs::path dir;
};

Fixtures make_fixtures(const fs::path& dir, const fs::path& exe, const fs::path& cwd) {
  using namespace gs;
  Fixtures f;
  f.dir = dir;
  fs::create_directories(dir);
  auto path = [&](const std::string& name, const std::string& file) { return f.paths[name] = (dir / file).string(); };

  write_bytes(path("text", "text.txt"), english_text());
  Generator gen(20240611);
  const Tensor W = randn({30, 4}, gen, kFloat64), H = randn({10, 4}, gen, kFloat64);
  std::vector<int64_t> y(10);
  for (int64_t i = 0; i < 10; ++i) y[static_cast<size_t>(i)] = (7 * i + 2) % 30;  // every value in [0, 30)
  nn::save_npy(path("W", "W.npy"), W);
  nn::save_npy(path("W32", "W32.npy"), op::to(W, kFloat32));
  nn::save_npy(path("H", "H.npy"), H);
  nn::save_npy(path("y", "y.npy"), from_vector(y, {10}));

  // the damaged .npy files, each one fault away from {H} or {y}
  const std::string h_bytes = read_bytes(f.paths["H"]);
  REQUIRE(h_bytes.size() % 64 == 0);  // NumPy's layout: preamble + header padded to 64 bytes, then 40 float64
  REQUIRE(h_bytes.size() > 320);
  write_bytes(path("npy_bad_magic", "bad_magic.npy"), "GSBAD!" + h_bytes.substr(6));
  write_bytes(path("npy_truncated", "truncated.npy"), h_bytes.substr(0, h_bytes.size() - 8));
  {
    const std::string from = "'fortran_order': False,", to = "'fortran_order': True, ";  // same length
    REQUIRE(h_bytes.find(from) != std::string::npos);
    write_bytes(path("npy_fortran", "fortran.npy"), replace_all(h_bytes, from, to));
  }
  {
    std::vector<double> h = H.to_vector<double>();
    h[1 * 4 + 1] = std::numeric_limits<double>::quiet_NaN();  // entry [1, 1]
    nn::save_npy(path("npy_nan", "nan.npy"), from_vector(h, {10, 4}));
    h[1 * 4 + 1] = 1e300;  // finite, but its square overflows float64
    nn::save_npy(path("npy_1e300", "1e300.npy"), from_vector(h, {10, 4}));
  }
  {
    std::vector<int64_t> oob = y;
    oob[3] = 30;  // V = 30: one past the last row of W
    nn::save_npy(path("npy_int_targets_oob", "targets_oob.npy"), from_vector(oob, {10}));
    std::vector<double> yf(y.begin(), y.end());
    nn::save_npy(path("npy_float_targets", "targets_float.npy"), from_vector(yf, {10}));
  }
  write_bytes(path("npy_huge_shape", "huge_shape.npy"), huge_shape_npy());
  {
    std::vector<double> w = W.to_vector<double>();
    w.resize(30);
    nn::save_npy(path("npy_1d_W", "W_1d.npy"), from_vector(w, {30}));
  }

  // plain files, a folder and a FIFO
  write_bytes(path("file", "file.txt"), "[72, 105, 2.5]\n");  // also --decode input: element 2 is not an integer
  write_bytes(path("empty", "empty"), "");
  fs::create_directory(path("folder", "folder"));
  REQUIRE(::mkfifo(path("fifo", "fifo").c_str(), 0600) == 0);

  // safetensors: one that is no checkpoint, and {ck} trained by the binary itself
  nn::save_safetensors(path("st_not_checkpoint", "not_checkpoint.safetensors"),
                       std::map<std::string, Tensor>{{"x", from_vector(std::vector<double>{1, 2}, {2})}});
  const std::string ck = path("ck", "ck.safetensors");
  {
    const std::string log = (dir.parent_path() / "ck_train.log").string();
    const std::string cmd = "cd " + cwd.string() + " && " + exe.string() + " train --text " + f.paths["text"] + " " +
                            kCheckpointArgs + " --checkpoint " + ck + " < /dev/null > " + log + " 2>&1";
    const int rc = shell(cmd);
    INFO(cmd << "\n" << read_bytes(log));
    REQUIRE(rc == 0);
    REQUIRE_NOTHROW(nn::load_checkpoint(ck));
  }
  const std::string ck_bytes = read_bytes(ck);
  write_bytes(path("st_truncated", "truncated.safetensors"), ck_bytes.substr(0, ck_bytes.size() / 2));
  // the damaged checkpoints: {ck} read back, one value changed, saved under a new name
  {
    nn::SafetensorsContents c = nn::load_safetensors(ck);
    REQUIRE(c.metadata.count("config.n_layer") == 1);
    c.metadata["config.n_layer"] = "1000000000";
    nn::save_safetensors(path("ck_huge_layers", "ck_huge_layers.safetensors"), c.tensors, c.metadata);
    REQUIRE(nn::load_checkpoint(f.paths["ck_huge_layers"]).config.at("n_layer") == "1000000000");
  }
  {
    // within every limit and this machine's memory, but more layers than the file holds weights for
    nn::SafetensorsContents c = nn::load_safetensors(ck);
    c.metadata["config.n_layer"] = "40";
    nn::save_safetensors(path("ck_more_layers", "ck_more_layers.safetensors"), c.tensors, c.metadata);
  }
  {
    nn::SafetensorsContents c = nn::load_safetensors(ck);
    REQUIRE(c.tensors.count("model.head.weight") == 1);
    set_first(c.tensors.at("model.head.weight"), std::numeric_limits<double>::quiet_NaN());
    nn::save_safetensors(path("ck_nan", "ck_nan.safetensors"), c.tensors, c.metadata);
  }
  {
    nn::SafetensorsContents c = nn::load_safetensors(ck);
    REQUIRE(c.tensors.count("optim.head.weight.exp_avg_sq") == 1);  // AdamW's slot for the head (nn/optim.cpp)
    set_first(c.tensors.at("optim.head.weight.exp_avg_sq"), -1.0);
    nn::save_safetensors(path("ck_neg_sq", "ck_neg_sq.safetensors"), c.tensors, c.metadata);
  }
  return f;
}

}  // namespace

TEST_CASE("reliability: every bad input in docs/RELIABILITY.md is refused as documented", "[cli][reliability]") {
  const std::vector<Row> rows = read_catalogue(std::string(GS_TEST_DATA_DIR) + "/../docs/RELIABILITY.md");
  REQUIRE(rows.size() >= 60);
  for (size_t i = 0; i < rows.size(); ++i) {
    INFO(rows[i].line);
    REQUIRE(rows[i].number == static_cast<int>(i + 1));  // numbered 1..n, in order, none twice
  }

  // The test binary lives in <build>/tests/, the CLI in <build>/.
  const fs::path exe = fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "gradscope";
  {
    INFO("expects the gradscope binary at " << exe.string() << " (build all targets)");
    REQUIRE(fs::exists(exe));
  }

  gs::testing::TempDir root("gs_reliability_");
  // the command lines are split on spaces by the shell: the paths must not contain any
  const std::string root_str = root.dir.string() + exe.string();
  REQUIRE(root_str.find_first_of(" \t'\"\\$`") == std::string::npos);
  const fs::path cwd = root.dir / "cwd", logs = root.dir / "logs";
  fs::create_directories(cwd);  // every command runs here: a default output (graph.dot, ./gradscope-out) would show
  fs::create_directories(logs);
  const Fixtures fx = make_fixtures(root.dir / "fixtures", exe, cwd);

  // what must not change: the bytes of every regular-file fixture, and the folder's listing
  std::map<std::string, std::string> before;
  for (const auto& [name, p] : fx.paths)
    if (fs::is_regular_file(fs::symlink_status(p))) before[name] = read_bytes(p);
  const std::vector<std::string> fixture_listing = gs::testing::listing(fx.dir);
  const bool gpt2 = gpt2_available();

  for (const Row& r : rows) {
    if (r.what.find("needs GPT-2's files") != std::string::npos && !gpt2) {
      WARN("row " << r.number << " skipped: GPT-2's tokenizer files are not installed (run scripts/setup)");
      continue;
    }
    const fs::path tmp = root.dir / "rows" / std::to_string(r.number);
    fs::create_directories(tmp);
    auto substitute = [&](std::string s) {
      s = replace_all(s, "{tmp}", tmp.string());
      for (const auto& [name, p] : fx.paths) s = replace_all(s, "{" + name + "}", p);
      return s;
    };
    const std::string command = substitute(r.command), fragment = substitute(r.fragment);
    const std::string out = (logs / (std::to_string(r.number) + ".out")).string();
    const std::string err = (logs / (std::to_string(r.number) + ".err")).string();
    // timeout: a command that blocks (a FIFO opened for reading, standard input) fails the row with
    // 124 instead of hanging the suite; standard input is /dev/null for the same reason
    const int rc = shell("cd " + cwd.string() + " && timeout 60 " + exe.string() + " " + command + " < /dev/null > " +
                         out + " 2> " + err);
    const std::string message = read_bytes(err);
    const std::string first_line = message.substr(0, message.find('\n'));
    const std::string rest = message.find('\n') == std::string::npos ? "" : message.substr(message.find('\n') + 1);
    const std::string name = r.command.substr(0, r.command.find(' '));

    INFO("row " << r.number << ": gradscope " << command);
    INFO("stderr: " << message);
    INFO("stdout (start): " << read_bytes(out).substr(0, 2000));
    CHECK(command.find('{') == std::string::npos);  // a placeholder this test does not provide
    CHECK(fragment.size() >= 15);                   // shorter fragments match too many messages
    CHECK(rc == r.exit);
    CHECK_THAT(first_line, StartsWith("gradscope " + name + ": "));
    CHECK_THAT(first_line, Contains(fragment));
    // one message, one line; only an unknown option or stray argument appends the usage text
    CHECK((rest.empty() || rest.rfind("usage: gradscope " + name + " ", 0) == 0));
    // nothing left behind: no output folder, no partial file, no "<target>.tmp.XXXXXX"
    INFO("left in {tmp}: " << joined(gs::testing::listing(tmp)) << "; in the working folder: " << joined(gs::testing::listing(cwd)));
    CHECK(fs::is_empty(tmp));
    CHECK(fs::is_empty(cwd));
  }

  // no row changed, replaced or added to a fixture (a resume that went on would rewrite {ck})
  for (const auto& [name, bytes] : before) {
    INFO("fixture {" << name << "} at " << fx.paths.at(name));
    CHECK(fs::is_regular_file(fs::symlink_status(fx.paths.at(name))));
    const bool unchanged = read_bytes(fx.paths.at(name)) == bytes;  // a bool: Catch would print both files
    CHECK(unchanged);
  }
  CHECK(gs::testing::listing(fx.dir) == fixture_listing);
  CHECK(fs::is_fifo(fs::symlink_status(fx.paths.at("fifo"))));
  CHECK(fs::is_directory(fs::symlink_status(fx.paths.at("folder"))));
  CHECK(fs::is_empty(fx.paths.at("folder")));
}
