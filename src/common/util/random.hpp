// Deterministic pseudo-random numbers for jitter, ids and simulations.
//
// Contract: an Rng is a pure function of its seed — the same seed yields the
// same sequence on every platform — so a seeded simulation or a failing test
// replays exactly. Not cryptographically secure: never use it for secrets or
// tokens. Not thread-safe; give each thread (or each state machine) its own.
//
//   chatsdk::Rng rng(chatsdk::Rng::entropy_seed());   // production
//   chatsdk::Rng rng(42);                               // tests, simulation
//   auto delay = rng.uniform(0, 500);                   // inclusive bounds
#pragma once

#include <array>
#include <cstdint>

namespace chatsdk {

/// xoshiro256** (Blackman & Vigna), its state expanded from one 64-bit seed
/// with splitmix64 so that nearby seeds give unrelated streams.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept;

  /// Next 64 uniformly distributed bits.
  std::uint64_t next_u64() noexcept;

  /// Uniform integer in [lo, hi], both inclusive, without modulo bias.
  /// Bounds given in the wrong order are swapped.
  std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi) noexcept;

  /// A seed from the operating system's entropy source (std::random_device).
  /// The one non-pure helper of this module: call it at the edge (driver or
  /// main) and pass the seed inward, so the core stays replayable.
  static std::uint64_t entropy_seed();

 private:
  std::array<std::uint64_t, 4> s_{};
};

}  // namespace chatsdk
