#include "common/auth/jwt.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <climits>
#include <limits>
#include <new>
#include <vector>

#include "common/auth/base64url.hpp"
#include "common/protocol/limits.hpp"
#include "common/util/ids.hpp"

namespace chatsdk::auth {
namespace {

constexpr std::size_t kMacBytes = 32;  // SHA-256
using Mac = std::array<unsigned char, kMacBytes>;

// Iterative parsing: a token of deeply nested arrays must not exhaust the
// stack. Validated encoding: strings are UTF-8 or the token is rejected.
constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

Error fail(std::string message) {
  return Error{Errc::auth_failed, std::move(message)};
}

std::optional<Mac> hmac_sha256(std::string_view key, std::string_view data) {
  if (key.size() > static_cast<std::size_t>(INT_MAX)) return std::nullopt;
  Mac mac{};
  unsigned int len = 0;
  // A non-null key pointer even for an empty key: in OpenSSL's HMAC init a
  // null key means "keep the previous key", not "the empty key".
  static constexpr char kEmpty[1] = {0};
  const void* key_ptr = key.empty() ? static_cast<const void*>(kEmpty) : key.data();
  const auto* out =
      HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &len);
  if (out == nullptr || len != kMacBytes) return std::nullopt;
  return mac;
}

std::string_view mac_view(const Mac& mac) {
  return {reinterpret_cast<const char*>(mac.data()), mac.size()};
}

/// The member's value, or nullptr. (Comparing RapidJSON 1.1 member iterators
/// with == is ambiguous under C++20's rewritten operators.)
const rapidjson::Value* find_member(const rapidjson::Value& object, const char* name) {
  const auto it = object.FindMember(name);
  return it != object.MemberEnd() ? &it->value : nullptr;
}

/// Parses `json` as one JSON object with unique member names.
bool parse_object(std::string_view json, rapidjson::Document& doc) {
  doc.Parse<kParseFlags>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  std::vector<std::string_view> names;
  names.reserve(doc.MemberCount());
  for (rapidjson::SizeType i = 0; i < doc.MemberCount(); ++i) {
    const auto& name = (doc.MemberBegin() + i)->name;
    names.emplace_back(name.GetString(), name.GetStringLength());
  }
  std::sort(names.begin(), names.end());
  return std::adjacent_find(names.begin(), names.end()) == names.end();
}

std::string_view as_view(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

/// Reads an optional integer claim: absent is fine, present must be an int64.
bool read_int(const rapidjson::Document& doc, const char* name, std::optional<std::int64_t>& out) {
  const rapidjson::Value* v = find_member(doc, name);
  if (v == nullptr) return true;
  if (!v->IsInt64()) return false;
  out = v->GetInt64();
  return true;
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  }
  return sum;
}

Result<Claims> verify_unchecked(std::string_view token, std::string_view secret,
                                const VerifyOptions& options) {
  if (secret.empty()) return fail("no secret configured");
  if (token.size() > proto::kMaxTokenBytes) return fail("token too large");

  const std::size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return fail("token is not three segments");
  const std::size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return fail("token is not three segments");
  }
  const std::string_view signing_input = token.substr(0, dot2);
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);

  // 1. The signature, before anything in the token is believed. The header is
  //    not consulted to pick the algorithm: HS256 is the only one there is.
  const auto signature = base64url_decode(signature_b64);
  if (!signature || signature->size() != kMacBytes) return fail("bad signature encoding");
  const auto expected = hmac_sha256(secret, signing_input);
  if (!expected) return Error{Errc::internal, "HMAC-SHA256 failed"};
  if (CRYPTO_memcmp(signature->data(), expected->data(), kMacBytes) != 0) {
    return fail("signature mismatch");
  }

  // 2. The header: a signed token for another algorithm is still refused, so
  //    a token minted for a different verifier cannot be replayed here.
  const auto header_json = base64url_decode(header_b64);
  if (!header_json) return fail("bad header encoding");
  rapidjson::Document header;
  if (!parse_object(*header_json, header)) return fail("header is not a JSON object");
  const rapidjson::Value* alg = find_member(header, "alg");
  if (alg == nullptr || !alg->IsString() || as_view(*alg) != "HS256") {
    return fail("alg is not HS256");
  }
  const rapidjson::Value* typ = find_member(header, "typ");
  if (typ != nullptr && (!typ->IsString() || as_view(*typ) != "JWT")) {
    return fail("typ is not JWT");
  }
  // RFC 7515 §4.1.11: extensions listed in `crit` must be understood; we understand none.
  if (header.HasMember("crit")) return fail("unsupported crit header");

  // 3. The claims.
  const auto payload_json = base64url_decode(payload_b64);
  if (!payload_json) return fail("bad payload encoding");
  rapidjson::Document payload;
  if (!parse_object(*payload_json, payload)) return fail("payload is not a JSON object");

  Claims claims;
  const rapidjson::Value* sub = find_member(payload, "sub");
  if (sub == nullptr || !sub->IsString()) return fail("sub missing");
  claims.sub.assign(as_view(*sub));
  if (!is_valid_id(claims.sub)) return fail("sub is not a valid user id");

  std::optional<std::int64_t> exp;
  if (!read_int(payload, "exp", exp) || !exp) return fail("exp missing or not an integer");
  claims.exp = *exp;
  if (!read_int(payload, "nbf", claims.nbf)) return fail("nbf is not an integer");
  if (!read_int(payload, "iat", claims.iat)) return fail("iat is not an integer");

  const std::int64_t leeway = std::max<std::int64_t>(options.leeway_s, 0);
  if (options.now_s > saturating_add(claims.exp, leeway)) {
    return Error{Errc::token_expired, "token expired"};
  }
  const std::int64_t latest = saturating_add(options.now_s, leeway);
  if ((claims.nbf && *claims.nbf > latest) || (claims.iat && *claims.iat > latest)) {
    return Error{Errc::token_not_yet_valid, "token not valid yet (nbf/iat in the future)"};
  }
  return claims;
}

}  // namespace

Result<Claims> verify_hs256(std::string_view token, std::string_view secret,
                            const VerifyOptions& options) {
  try {
    return verify_unchecked(token, secret, options);
  } catch (const std::bad_alloc&) {
    return Error{Errc::internal, "out of memory verifying token"};
  }
}

std::string sign_hs256_raw(std::string_view header_json, std::string_view payload_json,
                           std::string_view secret) {
  std::string token = base64url_encode(header_json);
  token += '.';
  token += base64url_encode(payload_json);
  const auto mac = hmac_sha256(secret, token);
  token += '.';
  // HMAC only fails for a key over 2 GiB; the token then carries no valid
  // signature and verification refuses it.
  if (mac) token += base64url_encode(mac_view(*mac));
  return token;
}

std::string sign_hs256(const Claims& claims, std::string_view secret) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("sub");
  w.String(claims.sub.data(), static_cast<rapidjson::SizeType>(claims.sub.size()));
  w.Key("exp");
  w.Int64(claims.exp);
  if (claims.nbf) {
    w.Key("nbf");
    w.Int64(*claims.nbf);
  }
  if (claims.iat) {
    w.Key("iat");
    w.Int64(*claims.iat);
  }
  w.EndObject();
  return sign_hs256_raw(kHs256Header, std::string_view(buf.GetString(), buf.GetSize()), secret);
}

}  // namespace chatsdk::auth
