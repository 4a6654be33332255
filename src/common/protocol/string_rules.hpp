// The string constraint classes of the protocol (Str in types.hpp).
#pragma once

#include <string_view>

#include "chatsdk/errc.hpp"
#include "common/protocol/types.hpp"

namespace chatsdk::proto {

/// Errc::ok when `s` satisfies `rule`; out_of_range or body_too_large otherwise.
/// Assumes `s` is valid UTF-8 (the JSON parser validated it).
Errc check_string(std::string_view s, Str rule) noexcept;

/// Human description of a rule, for error messages ("must be 1..128 chars of ...").
std::string_view string_rule_message(Str rule) noexcept;

}  // namespace chatsdk::proto
