#pragma once
// A small --key value parser for the CLI commands: declared options with defaults and help,
// unknown options and bad numbers rejected with a message naming the option.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gs::cli {

class Options {
 public:
  Options(std::string command, std::string summary) : command_(std::move(command)), summary_(std::move(summary)) {}
  // Declares --name with a default value (as text) and a help line; help() shows "(default X)"
  // after it unless X is empty (an empty default means "not given": say what that does in help).
  Options& add(const std::string& name, const std::string& def, const std::string& help);
  Options& flag(const std::string& name, const std::string& help);
  // Declares a positional argument (upper-case NAME in the usage line), optional; read it with
  // str(name). Positionals are filled in the order declared; an extra one is an error.
  Options& positional(const std::string& name, const std::string& help);
  // Parses args; returns false when --help was given (help printed to stdout). Throws on errors.
  bool parse(const std::vector<std::string>& args);

  std::string str(const std::string& name) const;
  int64_t integer(const std::string& name) const;
  double number(const std::string& name) const;  // finite only: nan, inf are refused naming the option
  // A flag: false unless given as --name (or --name=true|yes|1|on; =false|no|0|off clears it;
  // any other value is refused).
  bool on(const std::string& name) const;
  bool has(const std::string& name) const { return opts_.count(name) > 0; }  // declared?
  // Whether the arguments named it (its value may still equal the default): for options that only
  // some modes use, so a mode can refuse one it would otherwise ignore.
  bool given(const std::string& name) const { return get(name).given; }
  std::string help() const;

 private:
  struct Opt {
    std::string value, help;
    bool is_flag = false;
    bool flag_set = false;
    bool is_positional = false;
    bool given = false;
    std::string def{};  // the declared default, for help()
  };
  const Opt& get(const std::string& name) const;
  std::string command_, summary_;
  std::map<std::string, Opt> opts_;
  std::vector<std::string> order_, positionals_;
};

}  // namespace gs::cli
