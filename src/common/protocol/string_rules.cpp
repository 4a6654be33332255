#include "common/protocol/string_rules.hpp"

#include "common/protocol/limits.hpp"
#include "common/util/ids.hpp"

namespace chatsdk::proto {
namespace {

bool is_token_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

// ASCII control characters; multi-byte UTF-8 sequences never contain bytes < 0x80.
bool is_control(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

bool has_control(std::string_view s, bool allow_whitespace) noexcept {
  for (char c : s) {
    if (is_control(c) && !(allow_whitespace && (c == '\n' || c == '\t' || c == '\r'))) return true;
  }
  return false;
}

bool has_space_or_control(std::string_view s) noexcept {
  for (char c : s) {
    if (c == ' ' || is_control(c)) return true;
  }
  return false;
}

}  // namespace

Errc check_string(std::string_view s, Str rule) noexcept {
  switch (rule) {
    case Str::id:
      return chatsdk::is_valid_id(s) ? Errc::ok : Errc::out_of_range;
    case Str::body:
      if (s.size() > kMaxBodyBytes) return Errc::body_too_large;
      return s.find('\0') == std::string_view::npos ? Errc::ok : Errc::out_of_range;
    case Str::name:
      return s.size() <= kMaxNameBytes && !has_control(s, false) ? Errc::ok : Errc::out_of_range;
    case Str::emoji:
      return !s.empty() && s.size() <= kMaxEmojiBytes && !has_space_or_control(s)
                 ? Errc::ok
                 : Errc::out_of_range;
    case Str::token:
      if (s.empty() || s.size() > kMaxTokenBytes) return Errc::out_of_range;
      for (char c : s) {
        if (!is_token_char(c)) return Errc::out_of_range;
      }
      return Errc::ok;
    case Str::url:
      return s.size() <= kMaxUrlBytes && !has_space_or_control(s) ? Errc::ok : Errc::out_of_range;
    case Str::text:
      return s.size() <= kMaxTextBytes && !has_control(s, true) ? Errc::ok : Errc::out_of_range;
  }
  return Errc::out_of_range;
}

std::string_view string_rule_message(Str rule) noexcept {
  switch (rule) {
    case Str::id:
      return "must be 1..128 bytes of [A-Za-z0-9_.:@-]";
    case Str::body:
      return "must be at most 16384 bytes of UTF-8 without NUL";
    case Str::name:
      return "must be at most 256 bytes without control characters";
    case Str::emoji:
      return "must be 1..64 bytes without whitespace or control characters";
    case Str::token:
      return "must be 1..8192 bytes of base64url and dots";
    case Str::url:
      return "must be at most 2048 bytes without whitespace or control characters";
    case Str::text:
      return "must be at most 1024 bytes without control characters";
  }
  return "is invalid";
}

}  // namespace chatsdk::proto
