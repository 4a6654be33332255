#include "options.hpp"

#include <cstdlib>
#include <sstream>

namespace chatsdk::bench {

bool Options::parse(int argc, char** argv, std::string& error) {
  for (int i = 0; i < argc; ++i)
    argv_.emplace_back(argv[i]);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      error = "unexpected argument " + a;
      return false;
    }
    const std::string k = a.substr(2);
    if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0)
      values_[k] = argv[++i];
    else
      values_[k] = "true";
  }
  return true;
}

double Options::num(const std::string& key, double def) const {
  auto it = values_.find(key);
  if (it == values_.end()) return def;
  char* end = nullptr;
  const double v = std::strtod(it->second.c_str(), &end);
  return end && *end == '\0' ? v : def;
}

std::string Options::str(const std::string& key, const std::string& def) const {
  auto it = values_.find(key);
  return it == values_.end() ? def : it->second;
}

std::vector<std::string> Options::list(const std::string& key, const std::string& def) const {
  std::vector<std::string> out;
  std::stringstream ss(str(key, def));
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::vector<pid_t> Options::pids(const std::string& key) const {
  std::vector<pid_t> out;
  for (const auto& s : list(key, "")) {
    const long v = std::strtol(s.c_str(), nullptr, 10);
    if (v > 0) out.push_back(static_cast<pid_t>(v));
  }
  return out;
}

}  // namespace chatsdk::bench
