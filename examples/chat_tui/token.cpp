#include "token.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace chatsdk::tui {

namespace {
std::string b64url(const unsigned char* p, std::size_t n) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | p[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(k[(acc >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(k[(acc << (6 - bits)) & 0x3F]);
  return out;  // unpadded, as JWT wants
}

std::string b64url(const std::string& s) {
  return b64url(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

// User ids use the id charset ([A-Za-z0-9_.:@-]), so no JSON escaping is needed;
// escape quotes and backslashes anyway so a bad id fails at the server, not here.
std::string json_str(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}
}  // namespace

std::string mint_token(const std::string& secret, const std::string& user, std::int64_t now_s,
                       std::int64_t ttl_s) {
  std::string header = b64url(std::string(R"({"alg":"HS256","typ":"JWT"})"));
  std::string payload = b64url("{\"sub\":" + json_str(user) + ",\"iat\":" + std::to_string(now_s) +
                               ",\"exp\":" + std::to_string(now_s + ttl_s) + "}");
  std::string input = header + "." + payload;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  return input + "." + b64url(mac, mac_len);
}

}  // namespace chatsdk::tui
