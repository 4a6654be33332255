// JWT (RFC 7519) signed with HMAC-SHA256: the only token chatsdk accepts.
//
// Contract:
//  - verify_hs256 accepts exactly `base64url(header).base64url(payload).
//    base64url(signature)` (no padding) of at most kMaxTokenBytes, whose
//    signature is HMAC-SHA256(secret, "header.payload") — checked in constant
//    time before anything in the token is believed — whose header says
//    alg "HS256" (nothing else, in no other case) and, if it has a typ, typ
//    "JWT", and whose payload is a JSON object with `sub` (an id: 1..128 bytes
//    of [A-Za-z0-9_.:@-]), integer `exp`, and optional integer `nbf`/`iat`
//    (seconds since the Unix epoch).
//  - Time: expired when now > exp + leeway (token_expired); not yet valid when
//    nbf or iat > now + leeway (token_not_yet_valid); expiry is checked first.
//    A negative leeway counts as 0. The caller passes `now`: no clock inside.
//  - Every other failure — malformed, forged, another key, another algorithm,
//    oversized, an empty secret — is auth_failed. Never throws (an allocation
//    failure becomes Errc::internal) and never crashes, whatever the input.
//  - Duplicate member names in the header or payload are rejected: parsers
//    that keep the first and parsers that keep the last would disagree.
//
//   auth::VerifyOptions opts{.now_s = clock.now_ms() / 1000};
//   auto claims = auth::verify_hs256(hello.token, config.jwt_secret, opts);
//   if (!claims) return reply_error(claims.error());   // auth_failed / token_expired / ...
//   std::string user = claims->sub;
//
//   std::string token = auth::sign_hs256({.sub = "alice", .exp = now_s + 3600}, secret);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "chatsdk/result.hpp"

namespace chatsdk::auth {

struct Claims {
  std::string sub;                  // user id
  std::int64_t exp = 0;             // expiry, seconds since the epoch
  std::optional<std::int64_t> nbf;  // not before
  std::optional<std::int64_t> iat;  // issued at

  friend bool operator==(const Claims&, const Claims&) = default;
};

struct VerifyOptions {
  std::int64_t now_s = 0;      // current time, seconds since the epoch
  std::int64_t leeway_s = 30;  // tolerated clock skew between issuer and verifier
};

/// The header sign_hs256 writes.
inline constexpr std::string_view kHs256Header = R"({"alg":"HS256","typ":"JWT"})";

Result<Claims> verify_hs256(std::string_view token, std::string_view secret,
                            const VerifyOptions& options);

/// A token for `claims` with header kHs256Header. The claims are written as
/// given: signing an invalid sub yields a token verify_hs256 rejects.
std::string sign_hs256(const Claims& claims, std::string_view secret);

/// Signs arbitrary header and payload JSON text (base64url-encoded here) —
/// for tests and fuzzing that need tokens the normal signer would never make
/// (another alg, missing claims) but with a correct signature.
std::string sign_hs256_raw(std::string_view header_json, std::string_view payload_json,
                           std::string_view secret);

}  // namespace chatsdk::auth
