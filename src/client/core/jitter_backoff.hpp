// Reconnect delays with "full jitter": attempt n waits uniform(0, min(cap,
// initial * factor^n)). Spreads a crowd of clients reconnecting after a server
// restart instead of synchronising them.
//
// NOTE: a shared chatsdk::Backoff (common/util/backoff.hpp) is being written
// on another branch; once it lands this file becomes a thin adapter over it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>

#include "chatsdk/options.hpp"

namespace chatsdk::client {

class JitterBackoff {
 public:
  explicit JitterBackoff(BackoffOptions p) : p_(p) {}
  /// Delay before the next attempt; advances the attempt counter.
  std::int64_t next(std::mt19937_64& rng) {
    double ceiling = static_cast<double>(p_.initial_ms) *
                     std::pow(std::max(1.0, p_.factor), static_cast<double>(attempt_));
    ceiling = std::min(ceiling, static_cast<double>(p_.max_ms));
    if (attempt_ < 64) ++attempt_;
    auto hi = static_cast<std::uint64_t>(ceiling);
    if (hi == 0) return 0;
    std::uniform_int_distribution<std::uint64_t> d(0, hi);
    return static_cast<std::int64_t>(d(rng));
  }
  void reset() { attempt_ = 0; }
  std::uint32_t attempt() const { return attempt_; }
  const BackoffOptions& policy() const { return p_; }

 private:
  BackoffOptions p_;
  std::uint32_t attempt_ = 0;
};

}  // namespace chatsdk::client
