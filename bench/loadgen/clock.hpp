// Wall clock in milliseconds with sub-millisecond precision. Sender and
// receiver run on the same host and read the same clock, so `sent_at` needs no
// synchronisation (WORKLOAD.md, "Clock").
#pragma once

#include <ctime>

namespace chatsdk::bench {

inline double now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) * 1000.0 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace chatsdk::bench
