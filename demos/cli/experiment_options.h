#pragma once
// Helpers shared by the experiment commands (spamlang, head-rank, equal-norm): comma-separated
// list options, mean/spread over seeds, and small formatting helpers for tables and CSVs.
#include <cstdint>
#include <string>
#include <vector>

#include "demos/cli/options.h"

namespace gs::cli {

// "256,1024,4096" -> {256, 1024, 4096}. Throws "option --<name>: ..." for an empty list, an empty
// item or an item that is not an integer (or not a number).
std::vector<int64_t> int_list(const Options& o, const std::string& name);
std::vector<double> number_list(const Options& o, const std::string& name);
// "transformer,gru" -> {"transformer", "gru"} (blanks around items trimmed; same errors).
std::vector<std::string> string_list(const Options& o, const std::string& name);

// Mean and sample standard deviation (0 for one value).
struct Spread {
  double mean = 0, std = 0, min = 0, max = 0;
};
Spread spread(const std::vector<double>& v);

// printf into a std::string.
std::string strf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// A number as CSV/JSON-friendly text ("nan" for NaN, shortest round-trip otherwise).
std::string num(double v);

}  // namespace gs::cli
