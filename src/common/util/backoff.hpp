// Reconnect delays: exponential backoff with full jitter.
//
// Contract: delay n (n = attempt(), counting from 0) is drawn uniformly from
// [0, ceiling_n] where ceiling_n = min(max_ms, initial_ms * factor^n). "Full
// jitter" spreads a crowd of clients that lost the same server over the whole
// window instead of having them all retry at the same instant
// (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
// Pure and deterministic for a given seed; never overflows, however many
// attempts. Not thread-safe.
//
//   chatsdk::Backoff backoff({}, chatsdk::Rng::entropy_seed());
//   on_disconnect: arm_timer(backoff.next_delay_ms());
//   on_live:       backoff.reset();
#pragma once

#include <cstdint>

#include "common/util/random.hpp"

namespace chatsdk {

struct BackoffPolicy {
  std::uint32_t initial_ms = 500;  // ceiling of the first delay
  std::uint32_t max_ms = 30000;    // cap of every ceiling
  double factor = 2.0;             // ceiling growth per attempt; values < 1 (or NaN) act as 1
};

class Backoff {
 public:
  Backoff(BackoffPolicy policy, std::uint64_t seed) noexcept;

  /// Draws the delay before the next attempt and counts the attempt.
  std::uint32_t next_delay_ms() noexcept;
  /// Back to attempt 0 (call once a connection is established and healthy).
  void reset() noexcept;
  /// Number of delays drawn since construction or the last reset (saturates).
  std::uint32_t attempt() const noexcept { return attempt_; }
  /// Upper bound of the delay the next call to next_delay_ms() may return.
  std::uint32_t ceiling_ms() const noexcept;

 private:
  BackoffPolicy policy_;
  Rng rng_;
  std::uint32_t attempt_ = 0;
};

}  // namespace chatsdk
