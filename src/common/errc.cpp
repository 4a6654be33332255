#include "chatsdk/errc.hpp"

#include <array>

namespace chatsdk {
namespace {

struct ErrcInfo {
  Errc code;
  std::string_view name;
  bool retryable;
  std::string_view doc;
};

constexpr std::array kErrcTable{
#define CHATSDK_ERRC(name, number, retryable, doc) \
  ErrcInfo{Errc::name, #name, (retryable) != 0, doc},
#include "chatsdk/errc_list.inc"
#undef CHATSDK_ERRC
};

const ErrcInfo* find(Errc code) noexcept {
  for (const auto& e : kErrcTable) {
    if (e.code == code) return &e;
  }
  return nullptr;
}

}  // namespace

std::string_view errc_name(Errc code) noexcept {
  const auto* e = find(code);
  return e != nullptr ? e->name : std::string_view("unknown");
}

std::string_view errc_description(Errc code) noexcept {
  const auto* e = find(code);
  return e != nullptr ? e->doc : std::string_view("Unknown status code.");
}

bool errc_retryable(Errc code) noexcept {
  const auto* e = find(code);
  return e != nullptr && e->retryable;
}

std::optional<Errc> errc_from_name(std::string_view name) noexcept {
  for (const auto& e : kErrcTable) {
    if (e.name == name) return e.code;
  }
  return std::nullopt;
}

}  // namespace chatsdk
