// base64url (RFC 4648 §5) without padding, as JWTs use it (RFC 7515 §2).
//
// Contract: encode never emits '='. decode is strict so that each byte string
// has exactly one accepted text form (no signature malleability): only the
// url alphabet [A-Za-z0-9_-], no padding, no whitespace, a length that is not
// 1 mod 4, and the unused low bits of the last character must be zero.
//
//   std::string text = chatsdk::auth::base64url_encode("hi");      // "aGk"
//   std::optional<std::string> raw = chatsdk::auth::base64url_decode(text);
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chatsdk::auth {

std::string base64url_encode(std::string_view bytes);
/// Empty optional when `text` is not canonical unpadded base64url.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace chatsdk::auth
