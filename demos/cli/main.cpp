// gradscope <command> [options]; `gradscope help` lists the commands.
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>

#include "demos/cli/commands.h"
#include "comm/communicator.h"
#include "ops_cpu/gemm_backend.h"

namespace {

const gs::cli::Command kCommands[] = {
    {"analyze", "head metrics of one batch from .npy files (W, H, targets) or a checkpoint: how much of the "
                "logit gradient the head destroys; with a model also the node trace and the leak test",
     gs::cli::run_analyze, false},
    {"backbones", "the same head on transformer, GRU and SSM backbones over several seeds: a Markdown table of the "
                  "destroyed fraction (mean +- std) at init and after training",
     gs::cli::run_backbones, true},
    {"bottleneck", "the main job: train a small LM and measure how much of the logit gradient the head destroys, "
                   "at every node",
     gs::cli::run_bottleneck, true},
    {"graph", "the autograd graph of one training step of a small transformer | gru | ssm model as Graphviz dot "
              "(and PNG): arrows forward, gradient norms from the backward pass",
     gs::cli::run_graph, false},
    {"mlp-demo", "train a 2-layer MLP language model on a synthetic sequence task; print the loss and "
                 "the gradient norm at every node",
     gs::cli::run_mlp_demo, false},
    {"tokenize", "text to token ids as a JSON array, or back with --decode (--tokenizer byte | gpt2)",
     gs::cli::run_tokenize, false},
    {"train", "train a byte-level language model (transformer | gru | ssm backbone, full | factorized head)",
     gs::cli::run_train, true},
    {"spamlang", "SpamLang over a (V, D) grid: accuracy collapses as V/D grows; a direct logit table control learns",
     gs::cli::run_spamlang, false},
    {"head-rank", "factorized heads of several ranks, same budget: loss curves and the token-efficiency ratio",
     gs::cli::run_head_rank, true},
    {"remedies", "every head (full, factorized, mos, mlp, sigsoftmax, registered) on the same data, measured "
                 "exactly: destroyed fraction, leak test, SpamLang accuracy, loss, ms per step",
     gs::cli::run_remedies, false},
    {"equal-norm", "direct logit step vs the logit change an SGD step through the network makes, at equal norm",
     gs::cli::run_equal_norm, false},
};

// The refusal of a command that runs in one process only: the commands that do split.
std::string not_data_parallel() {
  std::string list;
  for (const auto& c : kCommands)
    if (c.data_parallel) list += std::string(list.empty() ? "" : ", ") + c.name;
  return "runs in one process (each of mpirun's processes would run all of it and write the same outputs); "
         "under mpirun only " + list + " split their work over the processes: start it without mpirun";
}

int usage(FILE* out) {
  std::fprintf(out, "usage: gradscope <command> [options]\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(out, "  %-12s %s\n", c.name, c.summary);
  std::fprintf(out, "\n`gradscope <command> --help` describes a command's options.\n");
  return out == stdout ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage(stderr);
  const char* name = argv[1];
  if (!std::strcmp(name, "help") || !std::strcmp(name, "--help") || !std::strcmp(name, "-h")) return usage(stdout);
  for (const auto& c : kCommands) {
    if (std::strcmp(c.name, name) != 0) continue;
    try {
      gs::cpu::gemm_backend();  // a bad GRADSCOPE_GEMM fails here, before any work
      // Under mpirun only the data-parallel commands split their work over the ranks; any other
      // command would run N copies writing the same outputs.
      if (gs::comm::world().size() > 1 && !c.data_parallel) throw std::runtime_error(not_data_parallel());
      return c.run(gs::cli::Args(argv + 2, argv + argc));
    } catch (const std::bad_alloc&) {
      // a host allocation outside the tensor allocator (a std::vector of a huge batch): its own
      // message is the bare "std::bad_alloc"
      std::fflush(stdout);
      std::fprintf(stderr, "gradscope %s: out of memory: the sizes asked for (--batch, --seq-len, --d-model, --vocab, "
                   "a huge input file) need more memory than this machine has\n", name);
      return 2;
    } catch (const std::exception& e) {
      // every failure here is bad input or an unusable file: one message, exit code 2. A command's
      // own checks start their message with the command's name (so that it reads on its own when
      // run_<command> is called from code): it is not repeated after "gradscope <command>: ".
      std::fflush(stdout);
      const std::string what = e.what(), own = std::string(name) + ": ";
      std::fprintf(stderr, "gradscope %s: %s\n", name, (what.rfind(own, 0) == 0 ? what.substr(own.size()) : what).c_str());
      return 2;
    }
  }
  std::fprintf(stderr, "gradscope: unknown command '%s'\n\n", name);
  return usage(stderr);
}
