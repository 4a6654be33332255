// Command-line flags, parsed like load.js: `--name value`, or `--name` alone
// for true. Every scenario reads its own flags with its own defaults.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace chatsdk::bench {

class Options {
 public:
  /// False (with `error` set) on a stray positional argument.
  bool parse(int argc, char** argv, std::string& error);
  double num(const std::string& key, double def) const;
  std::string str(const std::string& key, const std::string& def) const;
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  std::vector<std::string> list(const std::string& key, const std::string& def) const;
  std::vector<pid_t> pids(const std::string& key) const;
  const std::vector<std::string>& argv() const { return argv_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> argv_;
};

}  // namespace chatsdk::bench
