// chatsdk/export.hpp — symbol visibility for the shared library.
//
// libchatsdk is built with -fvisibility=hidden; only declarations marked
// CHATSDK_API are exported. Static builds define CHATSDK_STATIC (nothing to mark).
#pragma once

#if defined(CHATSDK_STATIC)
#define CHATSDK_API
#elif defined(_WIN32)
#if defined(CHATSDK_BUILDING)
#define CHATSDK_API __declspec(dllexport)
#else
#define CHATSDK_API __declspec(dllimport)
#endif
#else
#define CHATSDK_API __attribute__((visibility("default")))
#endif
