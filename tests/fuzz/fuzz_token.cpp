// libFuzzer target: JWT verification (common/auth/jwt.hpp).
//
// Each input is tried two ways:
//  1. as a token, verified with a fixed secret. Random bytes almost never get
//     past the signature, which is the point: that path must be total.
//  2. as "header JSON\npayload JSON", signed here with the same secret and then
//     verified, so the fuzzer reaches the header and claims checks it could
//     never reach by forging an HMAC.
// Whenever a token verifies, its claims are re-signed and must verify to the
// same claims (round trip); otherwise the target aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/auth/jwt.hpp"

namespace {

// The seed corpus's valid tokens are signed with this secret.
constexpr std::string_view kSecret = "chatsdk-fuzz-secret";
constexpr chatsdk::auth::VerifyOptions kOptions{1'700'000'000, 30};

void check_round_trip(const chatsdk::auth::Claims& claims) {
  const std::string again = chatsdk::auth::sign_hs256(claims, kSecret);
  const auto r = chatsdk::auth::verify_hs256(again, kSecret, kOptions);
  if (!r.ok() || !(*r == claims)) {
    std::fprintf(stderr, "round trip failed for sub '%s'\n", claims.sub.c_str());
    std::abort();
  }
}

void verify(std::string_view token) {
  const auto r = chatsdk::auth::verify_hs256(token, kSecret, kOptions);
  if (r.ok()) {
    check_round_trip(*r);
  } else if (r.code() != chatsdk::Errc::auth_failed && r.code() != chatsdk::Errc::token_expired &&
             r.code() != chatsdk::Errc::token_not_yet_valid) {
    std::fprintf(stderr, "unexpected error code %d\n", static_cast<int>(r.code()));
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  verify(input);

  const std::size_t nl = input.find('\n');
  if (nl != std::string_view::npos) {
    verify(chatsdk::auth::sign_hs256_raw(input.substr(0, nl), input.substr(nl + 1), kSecret));
  }
  return 0;
}
