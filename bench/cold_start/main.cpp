// chatsdk-cold-start command line:
//   chatsdk-cold-start --populate DB [--channels N] [--messages N] [--seed S]
//   chatsdk-cold-start --measure DB [--runs N] [--cold]
//   chatsdk-cold-start --measure-once DB     (internal: one run, used by --measure)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cold_start.hpp"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: chatsdk-cold-start --populate DB [--channels N] [--messages N] [--seed S]\n"
               "       chatsdk-cold-start --measure DB [--runs N] [--cold]\n");
  return 2;
}

bool parse_u64(const char* s, std::uint64_t& out) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (end == s || *end != '\0') return false;
  out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode;
  std::string db;
  chatsdk::bench::PopulateOptions pop;
  std::uint64_t runs = 10;
  bool cold = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    std::uint64_t v = 0;
    if ((a == "--populate" || a == "--measure" || a == "--measure-once") && has_value) {
      mode = a;
      db = argv[++i];
    } else if (a == "--channels" && has_value && parse_u64(argv[++i], v) && v > 0 && v <= 1000000) {
      pop.channels = static_cast<std::uint32_t>(v);
    } else if (a == "--messages" && has_value && parse_u64(argv[++i], v)) {
      pop.messages = v;
    } else if (a == "--seed" && has_value && parse_u64(argv[++i], v)) {
      pop.seed = v;
    } else if (a == "--runs" && has_value && parse_u64(argv[++i], v) && v > 0 && v <= 10000) {
      runs = v;
    } else if (a == "--cold") {
      cold = true;
    } else {
      return usage();
    }
  }
  if (mode == "--populate") {
    pop.db = db;
    return chatsdk::bench::populate(pop);
  }
  if (mode == "--measure") return chatsdk::bench::measure(db, static_cast<unsigned>(runs), cold);
  if (mode == "--measure-once") return chatsdk::bench::measure_once(db);
  return usage();
}
