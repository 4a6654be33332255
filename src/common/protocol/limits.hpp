// Hard protocol limits: what the codec accepts at all. Servers may configure
// lower operational limits (announced in `welcome.limits`), never higher.
#pragma once

#include <cstddef>
#include <cstdint>

namespace chatsdk::proto {

inline constexpr int kProtocolVersion = 1;
inline constexpr const char* kSubprotocol = "chatsdk.v1";

/// Largest WebSocket message a client may send (one frame or a batch).
inline constexpr std::size_t kMaxClientMessageBytes = 64 * 1024;
/// Largest WebSocket message a server may send (sync/history pages).
inline constexpr std::size_t kMaxServerMessageBytes = 4 * 1024 * 1024;
/// JSON nesting deeper than this is rejected before parsing.
inline constexpr int kMaxDepth = 16;

inline constexpr std::size_t kMaxIdBytes = 128;             // user, channel, client, device ids
inline constexpr std::size_t kMaxBodyBytes = 16 * 1024;     // message body (UTF-8 bytes)
inline constexpr std::size_t kMaxMetadataBytes = 4 * 1024;  // compact JSON
inline constexpr std::size_t kMaxNameBytes = 256;           // display and channel names
inline constexpr std::size_t kMaxEmojiBytes = 64;
inline constexpr std::size_t kMaxTokenBytes = 8 * 1024;
inline constexpr std::size_t kMaxUrlBytes = 2048;
inline constexpr std::size_t kMaxTextBytes = 1024;  // error and notice messages

inline constexpr std::size_t kMaxListItems = 1000;      // ids in one request
inline constexpr std::size_t kMaxSyncChannels = 5000;   // cursors in one sync request
inline constexpr std::size_t kMaxPageItems = 5000;      // items in one server page
inline constexpr std::uint32_t kMaxHistoryLimit = 500;  // messages per history page

/// Integers on the wire stay within JavaScript's exact range.
inline constexpr std::uint64_t kMaxSafeInteger = (std::uint64_t{1} << 53) - 1;

}  // namespace chatsdk::proto
