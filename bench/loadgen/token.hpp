// JWT HS256 tokens for simulated users (`sub` = user id), signed with the
// server's shared secret, exactly as an app backend would mint them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace chatsdk::bench {

std::string sign_token(std::string_view user, std::string_view secret, std::int64_t now_s,
                       std::int64_t ttl_s = 24 * 3600);

}  // namespace chatsdk::bench
