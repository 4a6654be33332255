// chatsdk/events.hpp — what the client tells the app.
//
// Contract: events are values, produced on the loop thread in the order the
// client observed things, and pulled with Client::next_event() (or pushed to a
// listener on the loop thread). View-model diffs apply in order to the list the
// app holds: start from `reset`, then apply each insert/update/remove at its index.
//
//   while (auto ev = client->next_event()) {
//     if (auto* d = std::get_if<chatsdk::TimelineDiff>(&*ev)) apply(d->ops);
//   }
#pragma once

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include "chatsdk/types.hpp"

namespace chatsdk {

enum class ConnectionState : std::uint8_t {
  disconnected,
  connecting,      // TCP/TLS/WebSocket handshake
  authenticating,  // hello sent, waiting for welcome
  syncing,         // catching up with every channel's cursor
  live,            // caught up; events arrive as they happen
};

struct ConnectionChanged {
  ConnectionState state = ConnectionState::disconnected;
  Errc reason = Errc::ok;  // why the connection ended (disconnected only)
  std::string detail;
  std::int64_t retry_in_ms = -1;  // next attempt in this many ms; -1 = none planned
};

enum class DiffKind : std::uint8_t { reset, insert, update, remove };

/// One step of a list diff. reset: replace the whole list with `items`;
/// insert: put `item` at `index`; update: replace the row at `index` (same key);
/// remove: drop the row at `index` (its key is given).
template <class T>
struct DiffOp {
  DiffKind kind = DiffKind::reset;
  std::size_t index = 0;
  std::string key;
  T item{};
  std::vector<T> items;  // reset only
};

/// Changes of the channel list (ordered by last activity, newest first).
struct ChannelListDiff {
  std::vector<DiffOp<ChannelItem>> ops;
};

/// Changes of one open timeline (ascending seq; unconfirmed local echoes last).
struct TimelineDiff {
  std::string channel;
  std::vector<DiffOp<TimelineItem>> ops;
};

/// An outbox op changed state (queued, sending, sent, delivered, read, failed, cancelled).
struct OpChanged {
  Op op;
};

/// The set of users typing in a channel changed (remote typing expires on its own).
struct TypingChanged {
  std::string channel;
  std::vector<std::string> users;
};

struct PresenceChanged {
  Presence presence;
};

struct ReceiptChanged {
  Receipt receipt;
};

struct ProfilesReceived {
  std::vector<User> users;
};

/// One page of a channel's members from the server (Client::list_members), in
/// ascending user-id order. While `more` is true, ask again with
/// after = next_after (the last user id of this page). The cache is not
/// changed: in large channels membership is not part of the change stream.
/// Every request gets exactly one MembersPage: a refused one (e.g. not_member)
/// has `error` set and no members.
struct MembersPage {
  std::string channel;
  std::vector<Member> members;
  bool more = false;
  std::string next_after;
  Errc error = Errc::ok;
};

/// Old synced history was dropped to stay under the cache cap (never outbox
/// rows or unsynced data). Evicted history is fetched again when scrolled to.
struct CacheEvicted {
  std::uint64_t messages = 0;
  std::uint64_t bytes_before = 0;
  std::uint64_t bytes_after = 0;
};

/// Result of load_older/load_newer.
struct HistoryLoaded {
  std::string channel;
  std::size_t count = 0;
  bool more_before = false;
  bool more_after = false;
};

/// A failure not tied to an op (e.g. a history request, the cache).
struct ErrorEvent {
  Errc code = Errc::internal;
  std::string detail;
};

using Event = std::variant<ConnectionChanged, ChannelListDiff, TimelineDiff, OpChanged,
                           TypingChanged, PresenceChanged, ReceiptChanged, ProfilesReceived,
                           CacheEvicted, HistoryLoaded, ErrorEvent, MembersPage>;

}  // namespace chatsdk
