#include "common/util/ids.hpp"

#include <algorithm>

#include "common/protocol/limits.hpp"

namespace chatsdk {
namespace {

// Crockford's base32 alphabet is in ASCII order, so comparing encodings
// bytewise compares the encoded numbers.
constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::int64_t kMaxUlidTime = (std::int64_t{1} << 48) - 1;

}  // namespace

std::string new_client_id(Rng& rng, std::int64_t now_ms) {
  const auto time = static_cast<std::uint64_t>(std::clamp<std::int64_t>(now_ms, 0, kMaxUlidTime));
  // 80 random bits: 16 from one draw, 64 from another.
  const std::uint64_t rand_hi = rng.next_u64() & 0xFFFFU;
  const std::uint64_t rand_lo = rng.next_u64();

  std::string out(kClientIdLength, '0');
  // Characters 0..9: the 48-bit time, 5 bits each, most significant first
  // (the first character only carries 3 bits: 10 * 5 = 50).
  for (std::size_t i = 0; i < 10; ++i) {
    const auto shift = static_cast<unsigned>(5 * (9 - i));
    out[i] = kCrockford[(time >> shift) & 0x1FU];
  }
  // Characters 10..25: the 80 random bits as one 80-bit number hi:lo,
  // most significant 5-bit group first.
  for (std::size_t i = 0; i < 16; ++i) {
    const auto shift = static_cast<unsigned>(5 * (15 - i));  // bit offset in the 80-bit number
    std::uint64_t group = 0;
    if (shift >= 64) {
      group = rand_hi >> (shift - 64);
    } else if (shift > 59) {
      // The group straddles the hi/lo boundary.
      group = (rand_lo >> shift) | (rand_hi << (64 - shift));
    } else {
      group = rand_lo >> shift;
    }
    out[10 + i] = kCrockford[group & 0x1FU];
  }
  return out;
}

bool is_valid_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > proto::kMaxIdBytes) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return is_id_char(c); });
}

}  // namespace chatsdk
