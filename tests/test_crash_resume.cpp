// gradscope train killed with SIGKILL at pseudo-random times, then continued with --resume, over
// and over: the checkpoint under its final name is always complete and never goes back in steps,
// the temp files of killed saves (nn/file_io.cpp, "<target>.tmp.XXXXXX") are gone after the next
// save, and the chain ends bit for bit where one uninterrupted run of the same command ends.
// Bounded in time: at most kMaxKills kills, each delay a fraction of the reference run's time
// and at most kMaxDelay, and every child is killed after kMaxRunSeconds whatever happens.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "nn/checkpoint.h"
#include "tensor/dtype.h"
#include "tensor/tensor.h"
#include "tests/temp_dir.h"

using namespace gs;
namespace fs = std::filesystem;

namespace {

// A few KB of ordinary English, so the test does not depend on the default corpus being installed.
constexpr const char* kText = R"(It was late in the autumn when the ferry stopped running, and the island grew quiet.
The baker still opened at six, though fewer people came for bread before the fog lifted.
Children walked along the harbour wall, counting gulls and arguing about the tides.
An old clock in the square ran nine minutes slow; nobody had fixed it since the war.
Margaret kept bees behind the chapel and sold honey in jars with handwritten labels.
When the wind turned north, the fishermen mended nets and told stories about storms.
Some of those stories were true, and some grew longer every winter they were told.
The lighthouse keeper wrote letters to his sister on the mainland every Sunday evening.
He described the colour of the sea, the ships that passed, and the price of lamp oil.
Once a whale came so close to the rocks that the whole village ran down to watch it.
The schoolteacher used the visit to explain how whales breathe and why they sing.
By December, snow had settled on the hills, and the sheep were brought down to the fields.
Farmers fed them hay from the summer, dry and sweet, stacked high in stone barns.
On clear nights the stars were sharp enough to read by, or so the children claimed.
A visiting painter rented the cottage by the pier and painted the same boat forty times.
"The light changes," she said, "so it is never the same boat twice."
The post arrived twice a week by a small plane that landed on the beach at low tide.
If the weather was bad, the letters waited, and so did everyone who hoped for news.
In the library, a shelf of water-stained books held almanacs going back a century.
They recorded rainfall, harvests, births, shipwrecks, and the occasional comet.
Young Thomas wanted to be an engineer and built a windmill from bicycle parts.
It worked for three days, lit a single bulb, and then blew into the neighbour's garden.
The neighbour kept the blade as a souvenir and hung it above the kitchen door.
Spring came slowly: first the crocuses, then the lambs, then the ferry, at last.
People stood on the quay and waved as if the boat had been gone for years.
Quick brown foxes were never seen on the island, but hares jumped over lazy dogs daily.
Prices: 3 loaves for 2 pounds, 12 eggs for 1.50, honey at 4.75 a jar (while stocks last).
Questions about the timetable went to the harbour office, open 9-5, closed Wednesdays.
)";

constexpr int64_t kSteps = 150;         // the reference run: ~0.7 s on a quiet 2-core machine, ~2.5 s loaded
constexpr int kMaxKills = 12;           // bounds the chain's length
constexpr double kMaxDelay = 1.5;       // seconds; bounds each killed run on a slow (sanitizer) build
constexpr double kMaxRunSeconds = 120;  // a hang guard for runs that should finish by themselves

struct Outcome {
  bool exited = false;  // exited by itself (code is its exit status)
  int code = -1;
  bool killed = false;  // ended by our SIGKILL
  int term_signal = 0;  // the signal that ended it, if any
  double secs = 0;
};

// Runs exe with args (stdout and stderr to /dev/null) and SIGKILLs it if it is still running after
// limit_s seconds. Polls rather than sleeping the whole delay, so a run that ends early is seen at once.
// The child gets GRADSCOPE_NUM_THREADS=1: on a busy 2-core machine (ctest -j, other builds) two
// threads per run contend (a run took up to 3.5x longer here); every run here gets the same setting.
Outcome run_until(const std::string& exe, const std::vector<std::string>& args, double limit_s) {
  std::vector<std::string> store{exe};
  store.insert(store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : store) argv.push_back(s.data());
  argv.push_back(nullptr);
  static const std::string kThreadsVar = "GRADSCOPE_NUM_THREADS=";
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e)  // environ: <unistd.h> (_GNU_SOURCE, on for C++)
    if (std::strncmp(*e, kThreadsVar.c_str(), kThreadsVar.size()) != 0) env_store.emplace_back(*e);
  env_store.push_back(kThreadsVar + "1");
  std::vector<char*> envp;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // the child: only async-signal-safe calls between fork and exec (the test process may have threads)
    const int fd = ::open("/dev/null", O_WRONLY);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  Outcome o;
  int st = 0;
  bool sent_kill = false;
  for (;;) {
    const pid_t r = ::waitpid(pid, &st, sent_kill ? 0 : WNOHANG);
    if (r == pid) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::kill(pid, SIGKILL);  // leave no child running behind a failed test
      FAIL("waitpid: " << std::strerror(e));
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (secs >= limit_s) {
      ::kill(pid, SIGKILL);
      sent_kill = true;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  o.secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (WIFEXITED(st)) {
    // also the case where it finished just before our kill: a zombie takes no signal
    o.exited = true;
    o.code = WEXITSTATUS(st);
  } else if (WIFSIGNALED(st)) {
    o.term_signal = WTERMSIG(st);
    o.killed = sent_kill && o.term_signal == SIGKILL;
  }
  return o;
}

// Names of the temp files of saves of `target_name` in dir (file_io.cpp's "<target>.tmp.XXXXXX").
std::set<std::string> temps_of(const fs::path& dir, const std::string& target_name) {
  const std::string prefix = target_name + ".tmp.";
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.compare(0, prefix.size(), prefix) == 0) names.insert(name);
  }
  return names;
}

std::string joined(const std::set<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// Same names, dtypes, shapes and bytes. Bytes, not values: "bit for bit" also means -0.0 vs 0.0
// and NaN payloads, which == on values would miss or trip over.
void require_identical(const std::map<std::string, Tensor>& got, const std::map<std::string, Tensor>& want,
                       const std::string& what) {
  std::vector<std::string> got_names, want_names;
  for (const auto& kv : got) got_names.push_back(kv.first);
  for (const auto& kv : want) want_names.push_back(kv.first);
  INFO(what);
  REQUIRE(got_names == want_names);
  REQUIRE_FALSE(want_names.empty());
  for (const auto& [name, w] : want) {
    INFO(what << " tensor " << name);
    const Tensor& g = got.at(name);
    REQUIRE(std::string(dtype_name(g.dtype())) == std::string(dtype_name(w.dtype())));
    REQUIRE(g.shape() == w.shape());
    // load_checkpoint makes fresh contiguous CPU tensors, so their bytes can be compared directly
    REQUIRE((g.is_contiguous() && w.is_contiguous() && g.device() == Device::CPU && w.device() == Device::CPU));
    const size_t n = static_cast<size_t>(w.numel()) * dtype_size(w.dtype());
    CHECK(std::memcmp(g.raw_data(), w.raw_data(), n) == 0);
  }
}

}  // namespace

TEST_CASE("train --resume after repeated SIGKILLs ends bit for bit where an uninterrupted run ends",
          "[cli][crash]") {
  // the test binary lives in <build>/tests/, the CLI in <build>/
  const fs::path exe = fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "gradscope";
  INFO("expects the gradscope binary at " << exe.string() << " (build all targets)");
  REQUIRE(fs::exists(exe));
  gs::testing::TempDir tmp("gs_crash_resume_");
  const std::string text = tmp / "text.txt";
  {
    std::ofstream out(text);
    out << kText;
  }
  const std::string ref_path = tmp / "ref.safetensors";
  const std::string ck_name = "ck.safetensors";
  const std::string ck_path = tmp / ck_name;
  // one set of options for every run: --resume refuses a run whose settings or text differ
  auto train = [&](const std::string& checkpoint, bool resume) {
    std::vector<std::string> a{"train", "--text", text, "--d-model", "32", "--layers", "1", "--heads", "2",
                               "--seq-len", "16", "--batch", "4", "--steps", std::to_string(kSteps),
                               "--save-every", "1", "--checkpoint", checkpoint};
    if (resume) a.push_back("--resume");
    return a;
  };

  const Outcome ref_run = run_until(exe.string(), train(ref_path, false), kMaxRunSeconds);
  INFO("reference run: " << ref_run.secs << " s");
  REQUIRE(ref_run.exited);
  REQUIRE(ref_run.code == 0);
  const double t_ref = ref_run.secs;

  // Delays are fractions of the reference run's time, so the kills spread over a run on a fast
  // or a slow (sanitizer) build alike; saves happen every step, so some kills land inside one.
  // The fractions stay small so the first kill lands mid-run even if the reference run was slowed
  // by load, and so the chain takes several kills before a run can finish by itself.
  std::mt19937 gen(20240917u);
  std::uniform_real_distribution<double> fraction(0.03, 0.3);
  int kills = 0, kills_in_save = 0;
  bool finished = false;  // a run in the chain completed all kSteps by itself
  bool ck_seen = false;
  int64_t last_step = 0;
  std::ostringstream history;  // one line per kill, for the WARN below
  double scale = 1;  // shrinks when a run outpaces its kill before any kill landed (see below)
  for (int i = 0; i < kMaxKills && !finished; ++i) {
    const double delay = std::clamp(fraction(gen) * t_ref * scale, 0.02, kMaxDelay);
    const bool resume = fs::exists(ck_path);  // killed before its first save: nothing to resume, start over
    const std::set<std::string> before = temps_of(tmp.dir, ck_name);
    const Outcome o = run_until(exe.string(), train(ck_path, resume), delay);
    INFO("run " << i << (resume ? " (--resume)" : " (fresh)") << ", kill after " << delay << " s; exit code "
                << o.code << ", signal " << o.term_signal);
    if (o.exited && kills == 0) {
      // the reference run was slowed by load and this one finished before its first kill: no
      // chain yet. Start it again, with kills four times sooner.
      REQUIRE(o.code == 0);
      fs::remove(ck_path);
      ck_seen = false;
      last_step = 0;
      scale /= 4;
      history << "\n  run " << i << " finished before its kill; chain restarted";
      continue;
    }
    if (o.exited) {
      REQUIRE(o.code == 0);
      finished = true;
    } else {
      REQUIRE(o.killed);
      ++kills;
      history << "\n  kill " << kills << " after " << static_cast<int>(delay * 1000) << " ms";
      // a temp file this run made (a stale one from an earlier kill does not count) means the
      // kill landed inside a save
      const std::set<std::string> after = temps_of(tmp.dir, ck_name);
      if (std::any_of(after.begin(), after.end(), [&](const std::string& n) { return before.count(n) == 0; })) {
        ++kills_in_save;
        history << " [in a save]";
      }
    }
    // once there, the checkpoint never disappears: a save replaces it by rename, never removes it
    if (ck_seen) REQUIRE(fs::exists(ck_path));
    if (fs::exists(ck_path)) {
      ck_seen = true;
      nn::Checkpoint ck;
      REQUIRE_NOTHROW(ck = nn::load_checkpoint(ck_path));  // complete under its final name
      CHECK(ck.step >= last_step);                         // progress is never lost
      CHECK(ck.step <= kSteps);
      last_step = ck.step;
      history << ": step " << ck.step;
    } else {
      history << ": no checkpoint yet";
    }
  }
  if (!finished) {
    const bool resume = fs::exists(ck_path);
    const Outcome o = run_until(exe.string(), train(ck_path, resume), kMaxRunSeconds);
    INFO("final run" << (resume ? " (--resume)" : " (fresh)") << ": " << o.secs << " s");
    REQUIRE(o.exited);
    REQUIRE(o.code == 0);
  }
  WARN(kills << " kills, " << kills_in_save << " of them inside a save; reference run " << t_ref << " s"
             << (finished ? "; a run finished before its kill" : "") << history.str());
  REQUIRE(kills >= 1);  // otherwise nothing here was tested

  // every save (the final run's too) removes the temp files killed saves left
  CHECK(joined(temps_of(tmp.dir, ck_name)) == "");
  CHECK(joined(temps_of(tmp.dir, "ref.safetensors")) == "");

  const nn::Checkpoint ref = nn::load_checkpoint(ref_path);
  const nn::Checkpoint ck = nn::load_checkpoint(ck_path);
  CHECK(ref.step == kSteps);
  CHECK(ck.step == kSteps);
  require_identical(ck.model, ref.model, "model");
  require_identical(ck.optim, ref.optim, "optim");
  CHECK(nn::rng_state_to_string(ck.rng) == nn::rng_state_to_string(ref.rng));  // bit-exact text form
  CHECK(ck.config == ref.config);  // same model config and run record (steps, lr, seed, text fingerprint)
}
