#include "token.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace chatsdk::bench {
namespace {

std::string b64url(const unsigned char* p, std::size_t n) {
  static constexpr char kAlpha[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((n * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const unsigned v =
        (static_cast<unsigned>(p[i]) << 16) | (static_cast<unsigned>(p[i + 1]) << 8) | p[i + 2];
    out += kAlpha[(v >> 18) & 63];
    out += kAlpha[(v >> 12) & 63];
    out += kAlpha[(v >> 6) & 63];
    out += kAlpha[v & 63];
  }
  if (n - i == 1) {
    const unsigned v = static_cast<unsigned>(p[i]) << 16;
    out += kAlpha[(v >> 18) & 63];
    out += kAlpha[(v >> 12) & 63];
  } else if (n - i == 2) {
    const unsigned v = (static_cast<unsigned>(p[i]) << 16) | (static_cast<unsigned>(p[i + 1]) << 8);
    out += kAlpha[(v >> 18) & 63];
    out += kAlpha[(v >> 12) & 63];
    out += kAlpha[(v >> 6) & 63];
  }
  return out;
}

std::string b64url(std::string_view s) {
  return b64url(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

}  // namespace

std::string sign_token(std::string_view user, std::string_view secret, std::int64_t now_s,
                       std::int64_t ttl_s) {
  std::string payload = R"({"sub":")";
  payload += user;  // user ids use the id charset: nothing to escape
  payload +=
      R"(","iat":)" + std::to_string(now_s) + R"(,"exp":)" + std::to_string(now_s + ttl_s) + "}";
  std::string token = b64url(R"({"alg":"HS256","typ":"JWT"})") + "." + b64url(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac, &mac_len);
  token += ".";
  token += b64url(mac, mac_len);
  return token;
}

}  // namespace chatsdk::bench
