// A token bucket in integer milli-tokens (no floating point, 16 bytes), used
// for the per-connection frame limit, the per-user send limit and the
// per-session typing limit. Rate and burst are passed on each call so the
// bucket stores no configuration (sessions stay small).
#pragma once

#include <algorithm>
#include <cstdint>

namespace chatsdk::server::engine {

class TokenBucket {
 public:
  /// Starts full.
  void reset(std::uint32_t burst, std::int64_t now_ms) {
    milli_ = std::int64_t{burst} * 1000;
    last_ms_ = now_ms;
  }

  /// Takes one token. Returns 0 on success, else the milliseconds until one
  /// is available (nothing taken). burst == 0 means unlimited.
  std::uint32_t take(std::uint32_t rate_per_s, std::uint32_t burst, std::int64_t now_ms) {
    if (burst == 0) return 0;
    const std::int64_t cap = std::int64_t{burst} * 1000;
    if (now_ms > last_ms_) {
      // rate tokens/s == rate milli-tokens/ms.
      milli_ = std::min(cap, milli_ + (now_ms - last_ms_) * std::int64_t{rate_per_s});
      last_ms_ = now_ms;
    }
    if (milli_ >= 1000) {
      milli_ -= 1000;
      return 0;
    }
    if (rate_per_s == 0) return 1000;
    const std::int64_t missing = 1000 - milli_;
    const std::int64_t wait = (missing + rate_per_s - 1) / std::int64_t{rate_per_s};
    return static_cast<std::uint32_t>(std::max<std::int64_t>(wait, 1));
  }

 private:
  std::int64_t milli_ = 0;
  std::int64_t last_ms_ = 0;
};

}  // namespace chatsdk::server::engine
