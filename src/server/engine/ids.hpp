// The id charset of protocol v1 (Str::id): 1..128 bytes of [A-Za-z0-9_.:@-].
#pragma once

#include <algorithm>
#include <string_view>

#include "common/protocol/limits.hpp"

namespace chatsdk::server::engine {

inline bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > proto::kMaxIdBytes) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ':' || c == '@' || c == '-';
  });
}

}  // namespace chatsdk::server::engine
