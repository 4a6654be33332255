// chatsdk/errc.hpp — the status codes shared by the wire protocol, the C++ API,
// the server and the C API.
//
// Contract: numbers and names are append-only (see errc_list.inc). The wire
// carries the name (`"code":"not_member"`); the C API carries the number.
//
//   if (r.error().code == chatsdk::Errc::rate_limited) retry_later();
//   std::cout << chatsdk::errc_name(code);   // "rate_limited"
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace chatsdk {

enum class Errc : std::int32_t {
#define CHATSDK_ERRC(name, number, retryable, doc) name = number,
#include "chatsdk/errc_list.inc"
#undef CHATSDK_ERRC
};

/// Stable snake_case name ("not_member"); "unknown" for a number not in the list.
std::string_view errc_name(Errc code) noexcept;
/// One-line meaning, for logs and docs.
std::string_view errc_description(Errc code) noexcept;
/// True when the same request may succeed later unchanged.
bool errc_retryable(Errc code) noexcept;
/// Inverse of errc_name; empty when the name is unknown (a newer peer).
std::optional<Errc> errc_from_name(std::string_view name) noexcept;

}  // namespace chatsdk
