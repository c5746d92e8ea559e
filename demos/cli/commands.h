#pragma once
// The gradscope CLI: one binary, subcommands. Each command parses its own arguments.
#include <string>
#include <vector>

namespace gs::cli {

using Args = std::vector<std::string>;

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);
  // Splits its work over the processes of `mpirun -np N` (demos/cli/ranks.h): each takes its share
  // of every batch, rank 0 alone prints and writes. false: refused under mpirun with several
  // processes, which would each run the whole command and write the same outputs.
  bool data_parallel = false;
};

int run_mlp_demo(const Args& args);
int run_train(const Args& args);
int run_analyze(const Args& args);
int run_spamlang(const Args& args);
int run_head_rank(const Args& args);
int run_remedies(const Args& args);
int run_equal_norm(const Args& args);
int run_bottleneck(const Args& args);
int run_backbones(const Args& args);
int run_graph(const Args& args);
int run_tokenize(const Args& args);

}  // namespace gs::cli
