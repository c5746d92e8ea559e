#pragma once
// Where a command's results go, and how files get there: every file is written to a temporary
// name in its folder and renamed into place, so a failed run never leaves a partial file.
#include <string>

namespace gs::cli {

// Creates and returns <base>/<command>-<YYYYmmdd-HHMMSS> (base default ./gradscope-out), or
// `explicit_dir` itself when given.
std::string make_run_dir(const std::string& command, const std::string& explicit_dir = "",
                         const std::string& base = "gradscope-out");
// Writes text to path atomically (temp file + rename); throws gs::Error naming the path.
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace gs::cli
