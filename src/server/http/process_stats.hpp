// The process's own resource use, read from /proc for /metrics.
#pragma once

#include <cstdint>

namespace chatsdk::server::http {

struct ProcessStats {
  std::uint64_t rss_bytes = 0;  // resident set size
  std::uint64_t open_fds = 0;   // entries in /proc/self/fd
};

/// Best effort: zeros for what cannot be read.
ProcessStats read_process_stats();

}  // namespace chatsdk::server::http
