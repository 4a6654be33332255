#include "server/http/process_stats.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>

namespace chatsdk::server::http {

ProcessStats read_process_stats() {
  ProcessStats s;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    unsigned long long size = 0, resident = 0;
    if (std::fscanf(f, "%llu %llu", &size, &resident) == 2) {
      const long page = ::sysconf(_SC_PAGESIZE);
      s.rss_bytes = resident * static_cast<std::uint64_t>(page > 0 ? page : 4096);
    }
    std::fclose(f);
  }
  if (DIR* d = ::opendir("/proc/self/fd")) {
    std::uint64_t n = 0;
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
    s.open_fds = n > 0 ? n - 1 : 0;  // minus the directory stream's own fd
  }
  return s;
}

}  // namespace chatsdk::server::http
