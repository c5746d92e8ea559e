#pragma once
// Where a command's results go, and how files get there. Every destination is checked before the
// work starts (a bad --out or --json fails in the first second, not after an hour of training),
// the output folder is created only when the results exist (a run that fails leaves no folder
// behind), and every file is written to a temporary name in its folder and renamed into place,
// so a failed run never leaves a partial file.
#include <string>

namespace gs::cli {

// The output folder of a run: `explicit_dir` when given, else <base>/<command>-<YYYYmmdd-HHMMSS>
// (base default ./gradscope-out). Checked, not created: an existing path must be a writable
// folder; a new one must be creatable (its nearest existing ancestor a writable folder).
// Throws gs::Error("--out: ...") otherwise.
std::string plan_run_dir(const std::string& command, const std::string& explicit_dir = "",
                         const std::string& base = "gradscope-out");
// The planned folder while the results are written into it: the constructor creates it (and its
// missing parents) once the results are ready; unless keep() is called, the destructor removes
// what it created, so a write that fails half-way (a full disk) leaves no half-filled folder. A
// folder that existed before (an explicit --out) is left as it was found, apart from the files
// already renamed into it, each complete.
class OutputFolder {
 public:
  explicit OutputFolder(const std::string& dir);
  ~OutputFolder();
  OutputFolder(const OutputFolder&) = delete;
  OutputFolder& operator=(const OutputFolder&) = delete;
  void keep() { keep_ = true; }

 private:
  std::string created_;  // the topmost folder this one made; empty when the folder existed
  bool keep_ = false;
};

// Checks a file destination given by an option (--json FILE, --checkpoint FILE): new or a regular
// file, in an existing writable folder (nn::check_writable_target), or directly in `run_dir`, the
// command's planned output folder (plan_run_dir checked it; OutputFolder makes it before the
// file is written). Throws gs::Error naming the option. An empty path (the option not given)
// passes.
void check_output_file(const std::string& option, const std::string& path, const std::string& run_dir = "");
// Writes text to path atomically (temp file + rename); throws gs::Error naming the path.
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace gs::cli
