#include "common/util/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace chatsdk {

Backoff::Backoff(BackoffPolicy policy, std::uint64_t seed) noexcept : policy_(policy), rng_(seed) {}

std::uint32_t Backoff::ceiling_ms() const noexcept {
  const std::uint32_t cap = policy_.max_ms;
  const std::uint32_t initial = std::min(policy_.initial_ms, cap);
  // `!(f >= 1)` also catches NaN: a shrinking or undefined factor means "no growth".
  const double factor = !(policy_.factor >= 1.0) ? 1.0 : policy_.factor;
  if (initial == 0) return 0;  // 0 * inf would be NaN below
  // In double, pow() saturates to +inf for huge attempts instead of
  // overflowing, and +inf compares above the cap.
  const double ceiling =
      static_cast<double>(initial) * std::pow(factor, static_cast<double>(attempt_));
  if (!(ceiling < static_cast<double>(cap))) return cap;
  return static_cast<std::uint32_t>(ceiling);
}

std::uint32_t Backoff::next_delay_ms() noexcept {
  const std::uint32_t ceiling = ceiling_ms();
  if (attempt_ < std::numeric_limits<std::uint32_t>::max()) ++attempt_;
  return static_cast<std::uint32_t>(rng_.uniform(0, ceiling));
}

void Backoff::reset() noexcept {
  attempt_ = 0;
}

}  // namespace chatsdk
