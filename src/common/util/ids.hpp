// Identifiers: the protocol's id charset rule and client-generated ids.
//
// Contract: every id on the wire (user, channel, client, device, session) is
// 1..128 bytes of [A-Za-z0-9_.:@-] (proto::Str::id). new_client_id() makes
// ULID-style ids (https://github.com/ulid/spec): 26 characters of Crockford
// base32 (digits and upper-case letters except I, L, O, U), the first 10
// encoding the 48-bit millisecond time and the last 16 encoding 80 random
// bits. Ids made at different milliseconds sort (bytewise) by time; ids of the
// same millisecond are in random order. Collisions need two ids in the same
// millisecond sharing 80 random bits.
//
//   chatsdk::Rng rng(chatsdk::Rng::entropy_seed());
//   std::string id = chatsdk::new_client_id(rng, clock.now_ms());  // "01JD3Q2R8Y..."
//   if (!chatsdk::is_valid_id(user)) return Errc::out_of_range;
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/util/random.hpp"

namespace chatsdk {

/// Length of every id new_client_id() returns.
inline constexpr std::size_t kClientIdLength = 26;

/// A new ULID-style id for `now_ms` (milliseconds since the Unix epoch).
/// Times before the epoch count as 0 and times past 2^48-1 ms (year 10889) as
/// 2^48-1, so the result is always 26 valid id characters.
std::string new_client_id(Rng& rng, std::int64_t now_ms);

/// True for 1..128 bytes of [A-Za-z0-9_.:@-], the protocol's id charset.
bool is_valid_id(std::string_view id) noexcept;

/// True for one byte of the id charset.
constexpr bool is_id_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '@' || c == '-';
}

}  // namespace chatsdk
