// Client ids (ULID-style) and the protocol id charset.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/util/ids.hpp"

using chatsdk::is_valid_id;
using chatsdk::new_client_id;
using chatsdk::Rng;

namespace {

constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Decodes a run of Crockford characters into the number they spell.
std::uint64_t decode(std::string_view s) {
  std::uint64_t v = 0;
  for (char c : s)
    v = (v << 5) | kCrockford.find(c);
  return v;
}

}  // namespace

TEST_CASE("ids: 26 Crockford characters, valid protocol ids") {
  Rng rng(1);
  for (int i = 0; i < 1000; ++i) {
    const std::string id = new_client_id(rng, 1'700'000'000'000 + i);
    REQUIRE(id.size() == chatsdk::kClientIdLength);
    CHECK(id.size() == 26);
    CHECK(id.find_first_not_of(kCrockford) == std::string::npos);
    CHECK(is_valid_id(id));
  }
}

TEST_CASE("ids: time prefix encodes milliseconds as in the ULID spec") {
  Rng rng(1);
  // The ULID spec's example timestamp.
  CHECK(new_client_id(rng, 1469922850259).substr(0, 10) == "01ARZ3NDEK");
  CHECK(new_client_id(rng, 0).substr(0, 10) == "0000000000");
  CHECK(new_client_id(rng, (std::int64_t{1} << 48) - 1).substr(0, 10) == "7ZZZZZZZZZ");
  // Out-of-range times clamp instead of wrapping.
  CHECK(new_client_id(rng, -5).substr(0, 10) == "0000000000");
  CHECK(new_client_id(rng, std::int64_t{1} << 60).substr(0, 10) == "7ZZZZZZZZZ");
  const std::int64_t t = 1'732'500'000'123;
  CHECK(decode(new_client_id(rng, t).substr(0, 10)) == static_cast<std::uint64_t>(t));
}

TEST_CASE("ids: random part is exactly 80 bits drawn from the Rng") {
  for (std::uint64_t seed : {1ULL, 2ULL, 0xDEADBEEFULL}) {
    Rng rng(seed);
    Rng twin(seed);
    const std::string id = new_client_id(rng, 1000);
    const std::uint64_t hi = twin.next_u64() & 0xFFFF;
    const std::uint64_t lo = twin.next_u64();
    // Characters 10..25 spell the 80-bit number hi:lo. Split it at a
    // character boundary: the first 4 chars hold 20 bits, the last 12 hold 60.
    const std::string rand = id.substr(10);
    CHECK(decode(rand.substr(0, 4)) == ((hi << 4) | (lo >> 60)));
    CHECK(decode(rand.substr(4)) == (lo & ((std::uint64_t{1} << 60) - 1)));
  }
}

TEST_CASE("ids: 100k ids in the same millisecond are unique") {
  Rng rng(Rng::entropy_seed());
  std::unordered_set<std::string> seen;
  seen.reserve(100000);
  for (int i = 0; i < 100000; ++i)
    seen.insert(new_client_id(rng, 1'700'000'000'000));
  CHECK(seen.size() == 100000);
}

TEST_CASE("ids: ids sort by time") {
  Rng rng(9);
  // Consecutive milliseconds, carries across character boundaries included.
  for (std::int64_t t : {std::int64_t{0}, std::int64_t{31}, std::int64_t{1023},
                         std::int64_t{1'700'000'000'000}, (std::int64_t{1} << 48) - 2}) {
    CAPTURE(t);
    CHECK(new_client_id(rng, t) < new_client_id(rng, t + 1));
  }
  // Random times: sorting the ids sorts the times.
  std::vector<std::pair<std::int64_t, std::string>> pairs;
  for (int i = 0; i < 5000; ++i) {
    const auto t = static_cast<std::int64_t>(rng.uniform(0, (std::uint64_t{1} << 48) - 1));
    pairs.emplace_back(t, new_client_id(rng, t));
  }
  std::sort(pairs.begin(), pairs.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  for (std::size_t i = 1; i < pairs.size(); ++i)
    CHECK(pairs[i - 1].first <= pairs[i].first);
}

TEST_CASE("ids: is_valid_id implements the protocol charset") {
  CHECK(is_valid_id("a"));
  CHECK(is_valid_id("Z"));
  CHECK(is_valid_id("0"));
  CHECK(is_valid_id("user_1.name:tag@example-org"));
  CHECK(is_valid_id("dm:alice:bob"));
  CHECK(is_valid_id("_.:@-"));
  CHECK(is_valid_id(std::string(128, 'x')));
  CHECK_FALSE(is_valid_id(std::string(129, 'x')));
  CHECK_FALSE(is_valid_id(""));
  for (std::string_view bad :
       {" ",   "a b", "a/b",  "a\\b", "a#b",  "a+b",  "a=b",      "a,b",         "a!b",  "a?b",
        "a~b", "a%b", "a\"b", "a'b",  "a\tb", "a\nb", "\xc3\xa9", "caf\xc3\xa9", "\xff", "a\x7f"}) {
    CAPTURE(bad);
    CHECK_FALSE(is_valid_id(bad));
  }
  CHECK_FALSE(is_valid_id(std::string_view("ab\0cd", 5)));  // embedded NUL
  // Every byte value, alone: exactly 62 alphanumerics + 5 punctuation pass.
  int accepted = 0;
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    accepted += is_valid_id(std::string_view(&ch, 1)) ? 1 : 0;
  }
  CHECK(accepted == 67);
}
