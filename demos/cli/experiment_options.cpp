#include "demos/cli/experiment_options.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <stdexcept>

namespace gs::cli {
namespace {

std::vector<std::string> items(const Options& o, const std::string& name) {
  const std::string v = o.str(name);
  if (v.find_first_not_of(" \t") == std::string::npos) throw std::runtime_error("option --" + name + ": the list is empty");
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = v.find(',', start);
    std::string item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) throw std::runtime_error("option --" + name + ": empty item in the list '" + v + "'");
    out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::vector<int64_t> int_list(const Options& o, const std::string& name) {
  std::vector<int64_t> out;
  for (const auto& it : items(o, name)) {
    size_t used = 0;
    int64_t r = 0;
    try {
      r = std::stoll(it, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != it.size())
      throw std::runtime_error("option --" + name + ": '" + it + "' is not an integer");
    out.push_back(r);
  }
  return out;
}

std::vector<std::string> string_list(const Options& o, const std::string& name) { return items(o, name); }

std::vector<double> number_list(const Options& o, const std::string& name) {
  std::vector<double> out;
  for (const auto& it : items(o, name)) {
    size_t used = 0;
    double r = 0;
    try {
      r = std::stod(it, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != it.size()) throw std::runtime_error("option --" + name + ": '" + it + "' is not a number");
    out.push_back(r);
  }
  return out;
}

Spread spread(const std::vector<double>& v) {
  Spread s;
  if (v.empty()) return s;
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.std = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0;
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  return s;
}

std::string strf(const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

std::string num(double v) {
  if (std::isnan(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace gs::cli
