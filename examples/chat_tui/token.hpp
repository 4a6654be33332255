// Minting an HS256 JWT the way an app backend would ({"sub","iat","exp"},
// HMAC-SHA256 over "base64url(header).base64url(payload)").
#pragma once

#include <cstdint>
#include <string>

namespace chatsdk::tui {

/// A token for `user` valid for ttl_s seconds from now_s.
std::string mint_token(const std::string& secret, const std::string& user, std::int64_t now_s,
                       std::int64_t ttl_s);

}  // namespace chatsdk::tui
