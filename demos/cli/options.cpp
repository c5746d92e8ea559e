#include "demos/cli/options.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace gs::cli {

Options& Options::add(const std::string& name, const std::string& def, const std::string& help) {
  opts_[name] = {def, help, false, false, false, false, def};
  order_.push_back(name);
  return *this;
}

Options& Options::flag(const std::string& name, const std::string& help) {
  opts_[name] = {"", help, true, false};
  order_.push_back(name);
  return *this;
}

Options& Options::positional(const std::string& name, const std::string& help) {
  opts_[name] = {"", help, false, false, true};
  positionals_.push_back(name);
  return *this;
}

bool Options::parse(const std::vector<std::string>& args) {
  size_t next_positional = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(help().c_str(), stdout);
      return false;
    }
    if (a.rfind("--", 0) != 0) {
      if (next_positional >= positionals_.size()) throw std::runtime_error("unexpected argument '" + a + "'\n" + help());
      Opt& p = opts_[positionals_[next_positional++]];
      p.value = a;
      p.given = true;
      continue;
    }
    const std::string body = a.substr(2);
    const auto eq = body.find('=');
    const std::string key = body.substr(0, eq);  // --key=value or --key value
    std::string value = eq == std::string::npos ? std::string() : body.substr(eq + 1);
    auto it = opts_.find(key);
    if (it == opts_.end() || it->second.is_positional) throw std::runtime_error("unknown option --" + key + "\n" + help());
    it->second.given = true;
    if (it->second.is_flag) {
      // --flag sets it; --flag=VALUE says which way (a value that is neither is refused, never
      // read as "on")
      if (eq == std::string::npos || value == "true" || value == "yes" || value == "1" || value == "on") {
        it->second.flag_set = true;
      } else if (value == "false" || value == "no" || value == "0" || value == "off") {
        it->second.flag_set = false;
      } else {
        throw std::runtime_error("option --" + key + ": a flag takes no value, or one of true, yes, 1, on, false, no, "
                                 "0, off; got '" + value + "'");
      }
      continue;
    }
    if (eq == std::string::npos) {
      if (i + 1 >= args.size()) throw std::runtime_error("option --" + key + " needs a value");
      value = args[++i];
    }
    it->second.value = value;
  }
  return true;
}

const Options::Opt& Options::get(const std::string& name) const {
  auto it = opts_.find(name);
  if (it == opts_.end()) throw std::logic_error("option --" + name + " was not declared");
  return it->second;
}

std::string Options::str(const std::string& name) const { return get(name).value; }

int64_t Options::integer(const std::string& name) const {
  const std::string& v = get(name).value;
  size_t used = 0;
  int64_t r = 0;
  try {
    r = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v.size()) throw std::runtime_error("option --" + name + ": '" + v + "' is not an integer");
  return r;
}

double Options::number(const std::string& name) const {
  const std::string& v = get(name).value;
  size_t used = 0;
  double r = 0;
  try {
    r = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v.size()) throw std::runtime_error("option --" + name + ": '" + v + "' is not a number");
  // no option means anything by NaN or infinity: refuse them here rather than train on them
  if (!std::isfinite(r)) throw std::runtime_error("option --" + name + ": must be a finite number, got '" + v + "'");
  return r;
}

bool Options::on(const std::string& name) const { return get(name).flag_set; }

std::string Options::help() const {
  std::string h = "usage: gradscope " + command_ + " [options]";
  for (const auto& p : positionals_) {
    std::string upper = p;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    h += " [" + upper + "]";
  }
  h += "\n" + summary_ + "\n\n";
  for (const auto& p : positionals_) {
    std::string left = "  " + p;
    for (char& c : left) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (left.size() < 22) left.resize(22, ' ');
    h += left + " " + opts_.at(p).help + "\n";
  }
  h += "options:\n";
  for (const auto& n : order_) {
    const Opt& o = opts_.at(n);
    std::string left = "  --" + n + (o.is_flag ? "" : " V");
    if (left.size() < 22) left.resize(22, ' ');
    // the declared default, not a value parsed before --help; none shown when it is empty
    h += left + " " + o.help + (o.is_flag || o.def.empty() ? "" : " (default " + o.def + ")") + "\n";
  }
  return h;
}

}  // namespace gs::cli
