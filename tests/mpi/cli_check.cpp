// Run by ctest in builds with MPI (itself in one process): `gradscope bottleneck` alone and under
// `mpirun -np 2` with the same options must report the same head metrics. The step-0 measurement
// is compared (before any training step both measure the same model on the same global batch;
// after a step the two runs' float32 AdamW updates may already differ by a sign flip of a gradient
// entry near zero, see tests/mpi/train_check.cpp). The CLI trains in float32, so the figures agree
// to float32 rounding of two batch shapes, not to the float64 1e-12 of tests/mpi/analysis_check:
// the tolerance is 1e-5. Also checked: rank 0 alone printed (one header) and said it ran data
// parallel.
// Usage: cli_check <gradscope> <mpiexec> <scratch folder>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace {

constexpr double kTol = 1e-5;

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

bool run(const std::string& what, const std::string& command, const std::string& log) {
  const int rc = std::system((command + " > '" + log + "' 2>&1").c_str());
  if (rc != 0) std::printf("cli_check: %s failed (status %d):\n%s\n", what.c_str(), rc, slurp(log).c_str());
  return rc == 0;
}

struct Diff {
  double worst = 0;
  std::string where;
  bool exact_ok = true;
  std::string exact_where;
  void num(const std::string& what, const nlohmann::json& a, const nlohmann::json& b, double scale = -1) {
    if (a.is_null() && b.is_null()) return;
    if (!a.is_number() || !b.is_number()) {
      worst = INFINITY, where = what + " (not a number in one run)";
      return;
    }
    const double x = a.get<double>(), y = b.get<double>();
    const double s = scale >= 0 ? scale : std::max(std::abs(x), std::abs(y));
    const double d = s > 0 ? std::abs(x - y) / s : std::abs(x - y);
    if (d > worst) worst = d, where = what;
  }
  void same(const std::string& what, const nlohmann::json& a, const nlohmann::json& b) {
    if (a != b && exact_ok) exact_ok = false, exact_where = what + " " + a.dump() + " vs " + b.dump();
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: cli_check <gradscope> <mpiexec> <scratch folder>\n");
    return 2;
  }
  const std::string exe = argv[1], mpiexec = argv[2], dir = argv[3];
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string args = " bottleneck --steps 1 --every 1 --batch 4 --seq-len 16 --out ";
  if (!run("gradscope bottleneck in one process", "'" + exe + "'" + args + "'" + dir + "/np1'", dir + "/np1.log") ||
      !run("mpirun -np 2 gradscope bottleneck",
           "'" + mpiexec + "' -np 2 --oversubscribe '" + exe + "'" + args + "'" + dir + "/np2'", dir + "/np2.log"))
    return 1;
  const std::string log2 = slurp(dir + "/np2.log");
  size_t headers = 0;
  for (size_t at = log2.find("gradscope bottleneck: "); at != std::string::npos;
       at = log2.find("gradscope bottleneck: ", at + 1))
    ++headers;
  const bool said_parallel = log2.find("data parallel: 2 processes, 2 sequences each per step") != std::string::npos;

  const nlohmann::json one = nlohmann::json::parse(slurp(dir + "/np1/run.json"));
  const nlohmann::json two = nlohmann::json::parse(slurp(dir + "/np2/run.json"));
  const nlohmann::json &a = two["measurements"][0], &b = one["measurements"][0];
  Diff d;
  d.same("step", a["step"], b["step"]);
  d.same("tokens", a["tokens"], b["tokens"]);
  for (const char* k : {"loss", "logit_grad_norm", "visible_norm", "destroyed_fraction", "visible_cosine"})
    d.num(k, a[k], b[k]);
  for (const char* k : {"mean", "p5", "p50", "p95"})
    d.num(std::string("per_token_destroyed.") + k, a["per_token_destroyed"][k], b["per_token_destroyed"][k]);
  for (const char* k : {"cosine", "backbone_term_norm", "head_term_norm"})
    d.num(std::string("update.") + k, a["update"][k], b["update"][k]);
  const nlohmann::json &sa = a["spectrum"], &sb = b["spectrum"];
  for (const char* k : {"topk", "exact", "components_for_70", "components_for_90", "components_for_99"})
    d.same(std::string("spectrum.") + k, sa[k], sb[k]);
  d.num("spectrum.eym_bound_2d", sa["eym_bound_2d"], sb["eym_bound_2d"]);
  const auto &va = sa["singular_values"], &vb = sb["singular_values"];
  d.same("spectrum.singular_values (count)", va.size(), vb.size());
  if (va.size() == vb.size() && !vb.empty() && vb[0].is_number())
    for (size_t i = 0; i < vb.size(); ++i) d.num("sigma_" + std::to_string(i), va[i], vb[i], vb[0].get<double>());

  const bool processes_ok = one["compute"]["processes"] == 1 && two["compute"]["processes"] == 2;
  if (!processes_ok)
    std::printf("cli_check: run.json compute.processes: %s alone, %s under mpirun -np 2 (want 1 and 2)\n",
                one["compute"]["processes"].dump().c_str(), two["compute"]["processes"].dump().c_str());
  const bool ok = d.worst <= kTol && d.exact_ok && headers == 1 && said_parallel && processes_ok;
  std::printf("cli_check: gradscope bottleneck under mpirun -np 2 against one process, step-0 measurement: max "
              "relative difference %.2e (%s; tolerance %.0e)%s%s; headers printed %zu (want 1), data parallel line %s\n",
              d.worst, d.where.c_str(), kTol, d.exact_ok ? "" : ", differs: ", d.exact_ok ? "" : d.exact_where.c_str(),
              headers, said_parallel ? "present" : "MISSING");
  if (ok) std::printf("cli_check: the head metrics of the two runs match\n");
  else std::printf("cli_check: FAILED\n");
  return ok ? 0 : 1;
}
