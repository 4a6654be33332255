#include "chatsdk/version.hpp"

namespace chatsdk {

int version_number() noexcept {
  return CHATSDK_VERSION_NUMBER;
}
const char* version_string() noexcept {
  return CHATSDK_VERSION_STRING;
}

}  // namespace chatsdk
