#include "common/util/random.hpp"

#include <random>
#include <utility>

namespace chatsdk {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  x += 0x9E3779B97F4A7C15ULL;
  std::uint64_t z = x;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
  return (x << k) | (x >> (64 - k));
}

}  // namespace

Rng::Rng(std::uint64_t seed) noexcept {
  // splitmix64 never yields four zero words in a row, so the xoshiro state is
  // never the all-zero fixed point.
  for (auto& word : s_)
    word = splitmix64(seed);
}

std::uint64_t Rng::next_u64() noexcept {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

std::uint64_t Rng::uniform(std::uint64_t lo, std::uint64_t hi) noexcept {
  if (lo > hi) std::swap(lo, hi);
  const std::uint64_t span = hi - lo;  // number of values minus one
  if (span == UINT64_MAX) return next_u64();
  const std::uint64_t n = span + 1;
  // Rejection sampling: 2^64 mod n values at the bottom would make the low
  // results of `x % n` more likely, so they are redrawn (fewer than half of
  // all draws, usually almost none).
  const std::uint64_t threshold = (0 - n) % n;
  std::uint64_t x = next_u64();
  while (x < threshold)
    x = next_u64();
  return lo + x % n;
}

std::uint64_t Rng::entropy_seed() {
  std::random_device rd;
  // random_device yields 32-bit values; combine two for a full 64-bit seed.
  const auto hi = static_cast<std::uint64_t>(rd());
  const auto lo = static_cast<std::uint64_t>(rd());
  return (hi << 32) ^ lo;
}

}  // namespace chatsdk
