// chatsdk/version.hpp — compile-time and run-time version of the client library.
//
// Contract: compare CHATSDK_VERSION_NUMBER (the header you compiled against)
// with chatsdk::version_number() (the library you run with) to detect a
// mismatched shared library.
//
//   if (chatsdk::version_number() != CHATSDK_VERSION_NUMBER) warn();
#pragma once

#include "chatsdk/export.hpp"

#define CHATSDK_VERSION_MAJOR 0
#define CHATSDK_VERSION_MINOR 1
#define CHATSDK_VERSION_PATCH 0
#define CHATSDK_VERSION_STRING "0.1.0"
#define CHATSDK_VERSION_NUMBER \
  (CHATSDK_VERSION_MAJOR * 1000000 + CHATSDK_VERSION_MINOR * 1000 + CHATSDK_VERSION_PATCH)

namespace chatsdk {

/// Version of the linked library. Thread: any.
CHATSDK_API int version_number() noexcept;
/// "major.minor.patch" of the linked library (static storage). Thread: any.
CHATSDK_API const char* version_string() noexcept;

}  // namespace chatsdk
