// gradscope graph (demos/cli/cmd_graph.cpp): the .dot file parses (Graphviz's own parser when `dot`
// is installed, a structural check always), names the model's nodes by unique ids, and has exactly
// as many op nodes and parameter boxes as the engine visits in a backward pass of the same model
// built here; bad arguments are named once, exit with 2 and leave no file.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "autograd/ops.h"
#include "demos/cli/commands.h"
#include "nn/lm.h"
#include "tensor/ops.h"

using namespace gs;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir() {
  std::random_device rd;
  fs::path d = fs::temp_directory_path() / ("gs_graph_test_" + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(d);
  return d;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool have_dot() { return std::system("command -v dot >/dev/null 2>&1") == 0; }

struct DotCounts {
  std::set<std::string> ops, leaves;
  std::vector<std::pair<std::string, std::string>> edges;
};

// A structural reading of the dot text: header, balanced braces outside quoted labels, and the
// node and edge statements. Fails the test on a line it does not recognise.
DotCounts structure(const std::string& dot) {
  REQUIRE(dot.rfind("digraph ", 0) == 0);
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < dot.size(); ++i) {
    const char c = dot[i];
    if (c == '\\' && quoted) ++i;  // an escaped character inside a label
    else if (c == '"') quoted = !quoted;
    else if (!quoted && c == '{') ++depth;
    else if (!quoted && c == '}') REQUIRE(--depth >= 0);
  }
  REQUIRE_FALSE(quoted);
  REQUIRE(depth == 0);
  DotCounts d;
  const std::regex op_re(R"(^  (\w+) \[shape=ellipse, label=".*"\];$)");
  const std::regex leaf_re(R"(^  (\w+) \[shape=box, .*label=".*"\];$)");
  const std::regex edge_re(R"(^  (\w+) -> (\w+);$)");
  std::istringstream in(dot);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, op_re)) d.ops.insert(m[1]);
    else if (std::regex_match(line, m, leaf_re)) d.leaves.insert(m[1]);
    else if (std::regex_match(line, m, edge_re)) d.edges.emplace_back(m[1], m[2]);
    else {
      INFO("line: " << line);
      REQUIRE((line.rfind("digraph", 0) == 0 || line == "}" || line.find("rankdir") != std::string::npos ||
               line.find("  node [") == 0 || line.find("  label=") == 0 || line.find("  labelloc") == 0));
    }
  }
  for (const auto& [a, b] : d.edges) {
    INFO(a << " -> " << b);
    CHECK((d.ops.count(a) || d.leaves.count(a)));
    CHECK(d.ops.count(b));
  }
  return d;
}

// The first line of every label (a node's or parameter's id), in file order.
std::vector<std::string> label_ids(const std::string& dot) {
  std::vector<std::string> ids;
  const std::regex label_re(R"(label="([^"\\]*)\\n)");
  std::istringstream in(dot);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (line.find("[shape=") != std::string::npos && std::regex_search(line, m, label_re)) ids.push_back(m[1]);
  }
  return ids;
}

// The node statement whose label starts with id (empty when there is none).
std::string label_line(const std::string& dot, const std::string& id) {
  std::istringstream in(dot);
  for (std::string line; std::getline(in, line);)
    if (line.find("label=\"" + id + "\\n") != std::string::npos) return line;
  return "";
}

// Runs the built binary with args; its stdout and stderr and exit status.
struct Ran {
  int rc = -1;
  std::string out, err;
};
Ran run_binary(const std::string& args, const fs::path& dir) {
  const fs::path exe = fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "gradscope";
  const fs::path out = dir / "stdout.txt", err = dir / "stderr.txt";
  const std::string cmd = "'" + exe.string() + "' " + args + " > '" + out.string() + "' 2> '" + err.string() + "'";
  const int status = std::system(cmd.c_str());
  Ran r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

// Counts what the engine visits in a backward pass: op nodes and leaves receiving a gradient.
struct Counter : Observer {
  std::set<const Node*> nodes;
  std::set<const AutogradMeta*> leaves;
  void on_node(const NodeEvent& e) override { nodes.insert(&e.node); }
  void on_leaf(const LeafEvent& e) override { leaves.insert(&e.leaf); }
};

// The same model and batch as the command documents (one sequence: tokens t mod V, targets
// (t + 1) mod V), built here with the library's default MLP width (the node structure does not
// depend on it).
Counter engine_count(const std::string& backbone, int64_t layers) {
  nn::LMConfig c;
  c.backbone = nn::parse_backbone(backbone);
  c.vocab = 8;
  c.d_model = 8;
  c.n_layer = layers;
  c.n_head = 2;
  c.context = 4;
  auto lm = nn::make_language_model(c);
  std::vector<int64_t> tok, tgt;
  for (int64_t t = 0; t < 4; ++t) {
    tok.push_back(t % 8);
    tgt.push_back((t + 1) % 8);
  }
  Counter n;
  ObserverScope scope(n);
  nn::LossOptions unfused;  // as the graph command draws it
  unfused.fused = false;
  backward(lm->loss(from_vector(tok, {1, 4}), from_vector(tgt, {1, 4}), unfused));
  return n;
}

}  // namespace

TEST_CASE("graph: the dot file of transformer / gru / ssm parses and matches the engine's node count", "[cli][graph]") {
  const fs::path dir = temp_dir();
  for (const auto& [backbone, layers] : {std::pair<std::string, int>{"transformer", 2}, {"gru", 1}, {"ssm", 1}}) {
    INFO("backbone " << backbone);
    const fs::path out = dir / (backbone + ".dot");
    REQUIRE(cli::run_graph({"--backbone", backbone, "--layers", std::to_string(layers), "--vocab", "8", "--d-model",
                            "8", "--heads", "2", "--seq-len", "4", "--grads", "--values", "--out", out.string()}) == 0);
    const std::string dot = read_text(out);
    const DotCounts d = structure(dot);
    const Counter n = engine_count(backbone, layers);
    CHECK(d.ops.size() == n.nodes.size());
    CHECK(d.leaves.size() == n.leaves.size());
    CHECK(dot.find("|grad| = ") != std::string::npos);
    CHECK(dot.find("\"head.logits") != std::string::npos);
    // every node and parameter box is labelled by a unique id
    const std::vector<std::string> ids = label_ids(dot);
    CHECK(ids.size() == d.ops.size() + d.leaves.size());
    CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
    // the title says which way the arrows go
    CHECK(dot.find("arrows point forward (input -> op), gradients flow against them") != std::string::npos);
    // the old option name still works and draws the same graph
    const fs::path old = dir / (backbone + "_model.dot");
    REQUIRE(cli::run_graph({"--model", backbone == "transformer" ? "gpt" : backbone, "--layers", std::to_string(layers),
                            "--vocab", "8", "--d-model", "8", "--heads", "2", "--seq-len", "4", "--grads", "--values",
                            "--out", old.string()}) == 0);
    CHECK(read_text(old) == dot);
    if (backbone == "transformer") {
      // names repeat inside attention (one permute each for q, k, v and the output)
      CHECK(dot.find("\"backbone.blocks.0.attn.permute#1\\n") != std::string::npos);
      CHECK(dot.find("\"backbone.blocks.0.attn.permute\\n") == std::string::npos);
      // the key bias's gradient is 0 in exact arithmetic (softmax ignores a constant added to a
      // row of scores) and is marked as rounding; the value bias's is not
      CHECK(label_line(dot, "backbone.blocks.0.attn.k.bias").find("(~0: rounding)") != std::string::npos);
      CHECK(label_line(dot, "backbone.blocks.0.attn.v.bias").find("|grad| = ") != std::string::npos);
      CHECK(label_line(dot, "backbone.blocks.0.attn.v.bias").find("rounding") == std::string::npos);
      CHECK(dot.find("\"backbone.blocks.0.attn.q") != std::string::npos);
      CHECK(dot.find("\"backbone.blocks.1.attn.probs") != std::string::npos);
      CHECK(dot.find("\"backbone.blocks.0.mlp.fc1") != std::string::npos);
    }
    if (have_dot()) {
      const std::string cmd = "dot -Tsvg '" + out.string() + "' -o /dev/null";
      CHECK(std::system(cmd.c_str()) == 0);
      CHECK(fs::file_size(fs::path(out).replace_extension(".png")) > 0);
    } else {
      WARN("graphviz `dot` not installed: structural check only, no PNG");
    }
  }
  fs::remove_all(dir);
}

TEST_CASE("graph: bad arguments are named, exit 2, no file", "[cli][graph]") {
  const fs::path dir = temp_dir();
  const std::string out = (dir / "g.dot").string();
  auto error_of = [&](std::vector<std::string> args, const std::string& path = "") {
    args.insert(args.end(), {"--out", path.empty() ? out : path});
    try {
      cli::run_graph(args);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  using Catch::Matchers::Contains;
  CHECK_THAT(error_of({"--backbone", "rnn"}), Contains("--backbone: unknown backbone 'rnn' (valid: transformer, gru, ssm)"));
  CHECK_THAT(error_of({"--model", "rnn"}), Contains("--model: unknown backbone 'rnn' (valid: transformer, gru, ssm)"));
  CHECK_THAT(error_of({"--model", "gru", "--backbone", "ssm"}), Contains("--model gru and --backbone ssm disagree"));
  CHECK_THAT(error_of({"--d-model", "8", "--heads", "3"}), Contains("--d-model (8) must be a multiple of --heads (3)"));
  CHECK_THAT(error_of({"--vocab", "1"}), Contains("--vocab must be at least 2"));
  CHECK_THAT(error_of({"--layers", "x"}), Contains("layers"));
  CHECK_THAT(error_of({"--colour", "red"}), Contains("colour"));
  CHECK_FALSE(fs::exists(out));
  CHECK_THAT(error_of({}, (dir / "missing" / "g.dot").string()), Contains("missing"));

  // the built binary turns the error into exit code 2 (it lives in <build>/, the tests in <build>/tests/)
  const fs::path exe = fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "gradscope";
  INFO("expects the gradscope binary at " << exe.string());
  REQUIRE(fs::exists(exe));
  std::string cmd = "'";
  cmd += exe.string() + "' graph --model rnn --out '" + out + "' 2>/dev/null";
  const int rc = std::system(cmd.c_str());
  CHECK(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 2);
  CHECK_FALSE(fs::exists(out));
  // the command's name once, then the message (it read "gradscope graph: graph: --model ...")
  const Ran bad = run_binary("graph --backbone rnn --out '" + out + "'", dir);
  CHECK(bad.rc == 2);
  CHECK(bad.err == "gradscope graph: --backbone: unknown backbone 'rnn' (valid: transformer, gru, ssm)\n");
  const Ran vocab = run_binary("graph --vocab 1 --out '" + out + "'", dir);
  CHECK(vocab.err == "gradscope graph: --vocab must be at least 2\n");
  CHECK_FALSE(fs::exists(out));
  fs::remove_all(dir);
}

TEST_CASE("graph: the defaults draw a head that destroys something, and say what ~0 gradients are", "[cli][graph]") {
  const fs::path dir = temp_dir();
  const std::string out = (dir / "g.dot").string();
  // --backbone transformer, as every other command spells it (it was refused as a --model value)
  const Ran r = run_binary("graph --backbone transformer --grads --out '" + out + "'", dir);
  INFO(r.out << r.err);
  REQUIRE(r.rc == 0);
  const std::string dot = read_text(out);
  CHECK(dot.find("V=32, D=8") != std::string::npos);  // V > D: a nontrivial null space
  CHECK(dot.find("\"head.weight\\n[32, 8]") != std::string::npos);
  CHECK_THAT(r.out, Catch::Matchers::Contains("note: |grad| below 1e-6 of the largest"));
  CHECK_THAT(r.out, Catch::Matchers::Contains("backbone.blocks.0.attn.k.bias"));
  CHECK_THAT(r.out, Catch::Matchers::Contains("softmax does not change when one constant is added to a whole row"));
  // --help states the defaults and the direction, and prints no empty default
  const Ran help = run_binary("graph --help", dir);
  CHECK(help.rc == 0);
  CHECK_THAT(help.out, Catch::Matchers::Contains("--vocab V") && Catch::Matchers::Contains("(default 32)"));
  CHECK_THAT(help.out, Catch::Matchers::Contains("Arrows point the forward way"));
  CHECK(help.out.find("(default )") == std::string::npos);
  fs::remove_all(dir);
}
