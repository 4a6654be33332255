// JWT HS256: verification rules, time checks, forgery and garbage resistance.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/auth/base64url.hpp"
#include "common/auth/jwt.hpp"
#include "common/util/random.hpp"

using chatsdk::Errc;
using namespace chatsdk::auth;

namespace {

constexpr std::string_view kSecret = "test-secret";
constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::int64_t kExp = kNow + 3600;

// Made with Python's hmac/base64 modules, independently of this code.
constexpr std::string_view kPythonToken =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJhbGljZSIsImV4cCI6MTcwMDAwMzYwMCwiaWF0IjoxNzAwMDAwMDAwfQ."
    "MMOANvJFSYqImSS43jOyD_OWl5acIZwrR6LDoYOO0Kg";
// Header members reversed, an extra claim, key "another key".
constexpr std::string_view kPythonToken2 =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."
    "eyJpYXQiOjE3MDAwMDAwMDAsIm5hbWUiOiJBbCIsInN1YiI6InVzZXJAZXhhbXBsZS5jb20iLCJleHAiOjE3MDAwMDM2MD"
    "B9."
    "FVbfCJNbsjbNxKvbmmb64Jt0KZwT4n7d4-WP7QA4bNE";

VerifyOptions at(std::int64_t now, std::int64_t leeway = 30) {
  return {now, leeway};
}

Errc verify_code(std::string_view token, std::int64_t now = kNow, std::int64_t leeway = 30,
                 std::string_view secret = kSecret) {
  return verify_hs256(token, secret, at(now, leeway)).code();
}

/// A correctly signed token over arbitrary header and payload JSON.
std::string signed_raw(std::string_view header, std::string_view payload) {
  return sign_hs256_raw(header, payload, kSecret);
}
std::string signed_payload(std::string_view payload) {
  return signed_raw(kHs256Header, payload);
}

std::string token_for(const Claims& c) {
  return sign_hs256(c, kSecret);
}

}  // namespace

TEST_CASE("jwt: base64url matches RFC 4648 vectors and is strict") {
  CHECK(base64url_encode("") == "");
  CHECK(base64url_encode("f") == "Zg");
  CHECK(base64url_encode("fo") == "Zm8");
  CHECK(base64url_encode("foo") == "Zm9v");
  CHECK(base64url_encode("foob") == "Zm9vYg");
  CHECK(base64url_encode("fooba") == "Zm9vYmE");
  CHECK(base64url_encode("foobar") == "Zm9vYmFy");
  CHECK(base64url_encode("\xfb\xff\xbf") == "-_-_");  // url alphabet, not +/
  for (std::string_view s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xfb\xff\xbf"}) {
    const auto back = base64url_decode(base64url_encode(s));
    REQUIRE(back.has_value());
    CHECK(*back == s);
  }
  CHECK_FALSE(base64url_decode("Zg==").has_value());  // padding
  CHECK_FALSE(base64url_decode("+/+/").has_value());  // standard alphabet
  CHECK_FALSE(base64url_decode("Zm9v YmFy").has_value());
  CHECK_FALSE(base64url_decode("Z").has_value());   // 1 mod 4
  CHECK_FALSE(base64url_decode("Zh").has_value());  // non-zero leftover bits
  CHECK_FALSE(base64url_decode("Zm9").has_value());
  CHECK(base64url_decode("Zm8").has_value());
}

TEST_CASE("jwt: signer output matches an independent implementation") {
  const Claims claims{"alice", kExp, std::nullopt, kNow};
  CHECK(sign_hs256(claims, kSecret) == kPythonToken);
}

TEST_CASE("jwt: valid tokens verify and yield their claims") {
  auto r = verify_hs256(kPythonToken, kSecret, at(kNow));
  REQUIRE(r.ok());
  CHECK(r->sub == "alice");
  CHECK(r->exp == kExp);
  CHECK(r->iat == kNow);
  CHECK_FALSE(r->nbf.has_value());

  auto r2 = verify_hs256(kPythonToken2, "another key", at(kNow));
  REQUIRE(r2.ok());
  CHECK(r2->sub == "user@example.com");
  CHECK(r2->exp == kExp);
}

TEST_CASE("jwt: sign -> verify round-trips") {
  const std::vector<Claims> cases{
      {"u", kExp, std::nullopt, std::nullopt},
      {"alice", kExp, kNow - 10, kNow - 10},
      {"a.b:c@d-e_f", kExp, kNow, std::nullopt},
      {std::string(128, 'z'), std::numeric_limits<std::int64_t>::max(), std::nullopt, 0},
      {"neg", kNow, -5, std::numeric_limits<std::int64_t>::min()},
  };
  for (const auto& c : cases) {
    CAPTURE(c.sub);
    auto r = verify_hs256(token_for(c), kSecret, at(kNow));
    REQUIRE(r.ok());
    CHECK(*r == c);
  }
}

TEST_CASE("jwt: expiry honours the leeway exactly") {
  const auto token = token_for({"alice", kExp, {}, {}});
  CHECK(verify_code(token, kExp) == Errc::ok);
  CHECK(verify_code(token, kExp + 30) == Errc::ok);
  CHECK(verify_code(token, kExp + 31) == Errc::token_expired);
  CHECK(verify_code(token, kExp + 1, 0) == Errc::token_expired);
  CHECK(verify_code(token, kExp, 0) == Errc::ok);
  CHECK(verify_code(token, kExp + 1, -100) == Errc::token_expired);  // negative leeway = 0
  CHECK(verify_code(token, kExp, -100) == Errc::ok);
  CHECK(verify_code(token, std::numeric_limits<std::int64_t>::max()) == Errc::token_expired);
  // exp + leeway must not overflow into the past.
  const auto forever = token_for({"alice", std::numeric_limits<std::int64_t>::max(), {}, {}});
  CHECK(verify_code(forever, std::numeric_limits<std::int64_t>::max()) == Errc::ok);
}

TEST_CASE("jwt: nbf and iat in the future are not yet valid, within leeway") {
  const auto nbf_token = [](std::int64_t nbf) { return token_for({"alice", kExp, nbf, {}}); };
  const auto iat_token = [](std::int64_t iat) { return token_for({"alice", kExp, {}, iat}); };
  CHECK(verify_code(nbf_token(kNow)) == Errc::ok);
  CHECK(verify_code(nbf_token(kNow + 30)) == Errc::ok);
  CHECK(verify_code(nbf_token(kNow + 31)) == Errc::token_not_yet_valid);
  CHECK(verify_code(nbf_token(kNow + 1), kNow, 0) == Errc::token_not_yet_valid);
  CHECK(verify_code(iat_token(kNow + 30)) == Errc::ok);
  CHECK(verify_code(iat_token(kNow + 31)) == Errc::token_not_yet_valid);
  CHECK(verify_code(iat_token(kNow + 1), kNow, 0) == Errc::token_not_yet_valid);
  CHECK(verify_code(iat_token(kNow - 100000)) == Errc::ok);
  // now + leeway saturates instead of wrapping negative.
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  CHECK(verify_code(token_for({"alice", max, max, max}), max) == Errc::ok);
  // Expired wins when both apply.
  CHECK(verify_code(token_for({"alice", kNow - 100, kNow + 100, {}})) == Errc::token_expired);
}

TEST_CASE("jwt: wrong key and empty secret fail") {
  CHECK(verify_code(kPythonToken, kNow, 30, "test-secreT") == Errc::auth_failed);
  CHECK(verify_code(kPythonToken, kNow, 30, "") == Errc::auth_failed);
  CHECK(verify_code(kPythonToken2, kNow, 30, kSecret) == Errc::auth_failed);
  // A token signed with the empty key is refused too.
  const std::string empty_key_token = sign_hs256({"alice", kExp, {}, {}}, "");
  CHECK(empty_key_token.size() - empty_key_token.rfind('.') - 1 == 43);  // still a real MAC
  CHECK(verify_code(empty_key_token, kNow, 30, "") == Errc::auth_failed);
}

TEST_CASE("jwt: any algorithm but HS256 is refused, even correctly signed") {
  const std::string payload = R"({"sub":"alice","exp":1700003600})";
  const std::string payload_b64 = base64url_encode(payload);
  const std::string good_sig = std::string(kPythonToken.substr(kPythonToken.rfind('.') + 1));
  for (std::string_view header : {R"({"alg":"none","typ":"JWT"})",
                                  R"({"alg":"None"})",
                                  R"({"alg":"HS512","typ":"JWT"})",
                                  R"({"alg":"RS256","typ":"JWT"})",
                                  R"({"alg":"hs256","typ":"JWT"})",
                                  R"({"alg":"Hs256"})",
                                  R"({"alg":"HS256 "})",
                                  R"({"alg":"HS256\u0000"})",
                                  R"({"alg":" HS256"})",
                                  R"({"typ":"JWT"})",
                                  R"({"alg":null})",
                                  R"({"alg":256})",
                                  R"({"alg":["HS256"]})",
                                  R"({"alg":"HS256","typ":"jwt"})",
                                  R"({"alg":"HS256","typ":1})",
                                  R"({"alg":"HS256","crit":["exp"]})",
                                  R"({"alg":"HS256","alg":"none"})",
                                  R"({"alg":"none","alg":"HS256"})",
                                  R"(["alg","HS256"])",
                                  R"("HS256")",
                                  "{}",
                                  ""}) {
    CAPTURE(header);
    // Re-signed with the right key over the swapped header.
    CHECK(verify_code(signed_raw(header, payload)) == Errc::auth_failed);
    // Signature stripped, as in the classic alg:none attack.
    const std::string unsigned_token = base64url_encode(header) + "." + payload_b64 + ".";
    CHECK(verify_code(unsigned_token) == Errc::auth_failed);
    CHECK(verify_code(unsigned_token.substr(0, unsigned_token.size() - 1)) == Errc::auth_failed);
    // The original signature kept.
    CHECK(verify_code(unsigned_token + good_sig) == Errc::auth_failed);
  }
  // Control: the same construction with a proper header verifies.
  CHECK(verify_code(signed_raw(R"({"alg":"HS256"})", payload)) == Errc::ok);
  CHECK(verify_code(signed_raw(R"({"typ":"JWT","alg":"HS256","kid":"k1"})", payload)) == Errc::ok);
}

TEST_CASE("jwt: every truncation of a valid token fails") {
  const std::string token(kPythonToken);
  REQUIRE(verify_code(token) == Errc::ok);
  for (std::size_t n = 0; n < token.size(); ++n) {
    CAPTURE(n);
    CHECK(verify_code(token.substr(0, n)) == Errc::auth_failed);
    CHECK(verify_code(token.substr(n + 1)) == Errc::auth_failed);  // and every suffix
  }
}

TEST_CASE("jwt: every single-character change to a valid token fails") {
  const std::string token(kPythonToken);
  for (std::size_t i = 0; i < token.size(); ++i) {
    for (char c : {'A', 'B', 'Q', 'g', 'w', '0', '-', '_', '.', '=', '+', ' ', '\0'}) {
      if (token[i] == c) continue;
      std::string mutated = token;
      mutated[i] = c;
      CAPTURE(i);
      CAPTURE(c);
      CHECK(verify_code(mutated) == Errc::auth_failed);
    }
  }
  // Extra bytes anywhere also fail.
  CHECK(verify_code(token + "A") == Errc::auth_failed);
  CHECK(verify_code(token + ".") == Errc::auth_failed);
  CHECK(verify_code(token + "=") == Errc::auth_failed);
  CHECK(verify_code("." + token) == Errc::auth_failed);
  CHECK(verify_code(token + ".eyJ9") == Errc::auth_failed);
}

TEST_CASE("jwt: bad base64 segments fail") {
  const std::string token(kPythonToken);
  const auto dot1 = token.find('.');
  const auto dot2 = token.rfind('.');
  const std::string h = token.substr(0, dot1);
  const std::string p = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string s = token.substr(dot2 + 1);
  CHECK(verify_code(h + "." + p + "." + s + "=") == Errc::auth_failed);  // padded signature
  CHECK(verify_code(h + "==." + p + "." + s) == Errc::auth_failed);
  CHECK(verify_code(h + "." + p + "=." + s) == Errc::auth_failed);
  CHECK(verify_code(h + "." + p + "\n." + s) == Errc::auth_failed);
  CHECK(verify_code(" " + token) == Errc::auth_failed);
  CHECK(verify_code(token + "\n") == Errc::auth_failed);
  // Standard-alphabet signature of the same bytes.
  std::string std_sig = s;
  for (char& c : std_sig)
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  REQUIRE(std_sig != s);
  CHECK(verify_code(h + "." + p + "." + std_sig) == Errc::auth_failed);
  // Header/payload that are not base64url at all, but correctly signed as text.
  const std::string mac_of_garbage = sign_hs256_raw("x", "y", kSecret);
  const std::string garbage_sig = mac_of_garbage.substr(mac_of_garbage.rfind('.') + 1);
  CHECK(verify_code("!!!." + p + "." + garbage_sig) == Errc::auth_failed);
  // A signature of the wrong length.
  CHECK(verify_code(h + "." + p + "." + s.substr(0, 42)) == Errc::auth_failed);
  CHECK(verify_code(h + "." + p + "." + s + "AAAA") == Errc::auth_failed);
  CHECK(verify_code("..") == Errc::auth_failed);
  CHECK(verify_code("") == Errc::auth_failed);
}

TEST_CASE("jwt: payload rules for correctly signed tokens") {
  CHECK(verify_code(signed_payload(R"({"sub":"alice","exp":1700003600})")) == Errc::ok);
  CHECK(verify_code(signed_payload(
            R"({"sub":"alice","exp":1700003600,"extra":{"a":[1,2,null]}})")) == Errc::ok);
  for (std::string_view payload : {
           R"({"sub":"alice"})",  // missing exp
           R"({"sub":"alice","exp":null})",
           R"({"sub":"alice","exp":"1700003600"})",
           R"({"sub":"alice","exp":1700003600.5})",
           R"({"sub":"alice","exp":1.7000036e9})",
           R"({"sub":"alice","exp":99999999999999999999})",  // beyond int64
           R"({"sub":"alice","exp":true})",
           R"({"sub":"alice","exp":1700003600,"nbf":"0"})",
           R"({"sub":"alice","exp":1700003600,"iat":1.5})",
           R"({"sub":"alice","exp":1700003600,"nbf":null})",
           R"({"exp":1700003600})",  // missing sub
           R"({"sub":"","exp":1700003600})",
           R"({"sub":42,"exp":1700003600})",
           R"({"sub":null,"exp":1700003600})",
           R"({"sub":["alice"],"exp":1700003600})",
           R"({"sub":"al ice","exp":1700003600})",
           R"({"sub":"al/ice","exp":1700003600})",
           R"({"sub":"al#ice","exp":1700003600})",
           R"({"sub":"alic\u00e9","exp":1700003600})",
           R"({"sub":"ali\u0000ce","exp":1700003600})",
           R"({"sub":"alice\n","exp":1700003600})",
           R"({"sub":"alice","sub":"bob","exp":1700003600})",  // duplicate claim
           R"({"sub":"alice","exp":1,"exp":1700003600})",
           R"([{"sub":"alice","exp":1700003600}])",
           R"("alice")",
           R"({"sub":"alice","exp":1700003600} )"
           "x",
           R"({"sub":"alice","exp":1700003600}{})",
           R"({"sub":"alice","exp":1700003600)",
           R"({"sub":"alice",exp:1700003600})",
           "",
           "null",
       }) {
    CAPTURE(payload);
    CHECK(verify_code(signed_payload(payload)) == Errc::auth_failed);
  }
  // 128 characters is the longest sub; 129 is refused.
  CHECK(verify_code(token_for({std::string(128, 'a'), kExp, {}, {}})) == Errc::ok);
  CHECK(verify_code(token_for({std::string(129, 'a'), kExp, {}, {}})) == Errc::auth_failed);
  // Invalid UTF-8 inside a string, even an ignored one.
  CHECK(verify_code(signed_payload("{\"sub\":\"alice\",\"exp\":1700003600,\"x\":\"\xff\"}")) ==
        Errc::auth_failed);
  // Deep nesting is refused without exhausting the stack.
  const std::string deep = R"({"sub":"alice","exp":1700003600,"x":)" + std::string(3000, '[') +
                           std::string(3000, ']') + "}";
  CHECK(verify_code(signed_payload(deep)) == Errc::ok);
  const std::string unbalanced = R"({"sub":"alice","exp":1700003600,"x":)" + std::string(6000, '[');
  CHECK(verify_code(signed_payload(unbalanced)) == Errc::auth_failed);
}

TEST_CASE("jwt: tokens over 8 KiB are refused even when correctly signed") {
  // Grow a padding claim until the token crosses the limit; the last token at
  // or under 8192 bytes verifies and the first one over it does not.
  std::string last_ok;
  std::string first_over;
  for (std::size_t pad = 5900; first_over.empty(); ++pad) {
    const std::string token =
        signed_payload(R"({"sub":"alice","exp":1700003600,"p":")" + std::string(pad, 'x') + "\"}");
    if (token.size() <= 8192) {
      last_ok = token;
    } else {
      first_over = token;
    }
  }
  REQUIRE_FALSE(last_ok.empty());
  CHECK(last_ok.size() >= 8190);
  CHECK(verify_code(last_ok) == Errc::ok);
  CHECK(verify_code(first_over) == Errc::auth_failed);
  CHECK(verify_code(std::string(1 << 20, 'A')) == Errc::auth_failed);
}

TEST_CASE("jwt: random garbage never verifies and never throws") {
  chatsdk::Rng rng(12345);
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ {}\"\0\xff";
  for (int i = 0; i < 3000; ++i) {
    const auto len = rng.uniform(0, 200);
    std::string input;
    for (std::uint64_t k = 0; k < len; ++k) {
      // Mostly token-like characters, sometimes any byte.
      input += rng.uniform(0, 9) == 0 ? static_cast<char>(rng.uniform(0, 255))
                                      : alphabet[rng.uniform(0, alphabet.size() - 1)];
    }
    Errc code = Errc::ok;
    CHECK_NOTHROW(code = verify_code(input));
    CHECK(code == Errc::auth_failed);
  }
  // Three segments of valid base64url with random contents.
  for (int i = 0; i < 1000; ++i) {
    std::string parts[3];
    for (auto& part : parts) {
      std::string raw;
      const auto len = rng.uniform(0, 60);
      for (std::uint64_t k = 0; k < len; ++k)
        raw += static_cast<char>(rng.uniform(0, 255));
      part = base64url_encode(raw);
    }
    CHECK(verify_code(parts[0] + "." + parts[1] + "." + parts[2]) == Errc::auth_failed);
  }
}
