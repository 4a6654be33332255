// chatsdk/types.hpp — value types the client API hands to the app.
//
// Contract: plain values (copyable, no pointers into the SDK); safe to keep,
// copy and move to any thread. Messages are ordered by `seq` within a channel,
// never by timestamps. Metadata fields hold compact JSON text ("" = none).
//
//   for (const chatsdk::Channel& c : client->channels())
//     std::printf("%s: %u unread\n", c.id.c_str(), c.unread);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chatsdk/errc.hpp"

namespace chatsdk {

using Seq = std::uint64_t;      // per-channel message sequence, gapless from 1
using Version = std::uint64_t;  // per-channel change counter
using TimeMs = std::int64_t;    // milliseconds since the Unix epoch
using OpId = std::int64_t;      // local outbox operation id (stable across restarts)

enum class ChannelKind : std::uint8_t { direct, group, large };
enum class Role : std::uint8_t { member, moderator, owner };

struct Reaction {
  std::string emoji;
  std::uint32_t count = 0;
  bool mine = false;  // the current user reacted with this emoji
  friend bool operator==(const Reaction&, const Reaction&) = default;
};

/// State of an outbox operation (see docs/client.md, "The outbox").
/// Moves only forward: queued -> sending -> sent -> delivered -> read, or to
/// failed (retry() puts it back to queued), or cancelled (final).
enum class OpState : std::uint8_t { queued, sending, sent, delivered, read, failed, cancelled };

enum class OpKind : std::uint8_t {
  send,
  edit,
  delete_message,
  react,
  unreact,
  mark_read,
  channel_create,
  members_add,
  members_remove,  // removing yourself is leaving
  profile_set,
  join,  // joining a public channel (append-only: stored as a number)
  channel_update,  // name / visibility / metadata of a channel (owner/moderator)
  member_role,     // a member's role (owner only)
};

struct OpFailure {
  Errc code = Errc::internal;
  bool retryable = false;  // retry(op) may succeed unchanged
  std::string reason;
  friend bool operator==(const OpFailure&, const OpFailure&) = default;
};

/// A pending or finished mutation from this device.
struct Op {
  OpId id = 0;
  OpKind kind = OpKind::send;
  OpState state = OpState::queued;
  std::string channel;               // "" for ops without a channel (profile_set, unnamed create)
  std::string client_id;             // idempotency key, generated when the op was created
  Seq seq = 0;                       // send: the message's seq once sent; edit/delete/react: target
  std::optional<OpFailure> failure;  // set while state == failed
  TimeMs created_at = 0;
  friend bool operator==(const Op&, const Op&) = default;
};

struct Message {
  std::string channel;
  Seq seq = 0;          // 0 while a local echo is not yet confirmed
  Version version = 0;  // channel version of the last change to this message
  std::string sender;
  std::string client_id;
  std::string body;  // "" when deleted
  TimeMs created_at = 0;
  TimeMs edited_at = 0;  // 0 = never edited
  bool deleted = false;
  Seq reply_to = 0;
  std::uint32_t reply_count = 0;
  std::vector<Reaction> reactions;
  std::vector<std::string> mentions;
  std::string metadata;  // compact JSON object or ""
  friend bool operator==(const Message&, const Message&) = default;
};

struct Channel {
  std::string id;
  ChannelKind kind = ChannelKind::group;
  std::string name;
  bool is_public = false;
  std::string created_by;
  TimeMs created_at = 0;
  std::uint32_t member_count = 0;
  Role role = Role::member;  // the current user's role
  std::string metadata;
  Seq last_seq = 0;
  Seq read_seq = 0;  // the current user's read cursor (any device)
  Seq delivered_seq = 0;
  std::uint32_t unread = 0;  // last_seq - read_seq, as the server counts it
  std::uint32_t mentions = 0;
  std::optional<Message> last_message;  // preview
  TimeMs last_activity = 0;             // newest message time (or creation)
  friend bool operator==(const Channel&, const Channel&) = default;
};

struct Member {
  std::string user;
  Role role = Role::member;
  Seq read_seq = 0;
  friend bool operator==(const Member&, const Member&) = default;
};

struct User {
  std::string id;
  std::string display_name;
  std::string avatar_url;
  std::string metadata;
  friend bool operator==(const User&, const User&) = default;
};

struct Presence {
  std::string user;
  bool online = false;
  TimeMs last_seen = 0;
  friend bool operator==(const Presence&, const Presence&) = default;
};

/// Another member's (or another of your devices') read/delivered position.
struct Receipt {
  std::string channel;
  std::string user;
  Seq read_seq = 0;
  Seq delivered_seq = 0;
  friend bool operator==(const Receipt&, const Receipt&) = default;
};

/// Optional parts of a message to send.
struct SendOptions {
  Seq reply_to = 0;                   // parent message seq in the same channel
  std::vector<std::string> mentions;  // user ids
  std::string metadata;               // compact JSON object or ""
};

/// Names a message for edit/delete/react: by seq, or by the client_id of a
/// message sent from this device (works before the server assigned a seq:
/// the op waits for the send and then targets its seq).
struct MessageRef {
  std::string channel;
  Seq seq = 0;
  std::string client_id;
};

/// One row of a channel timeline. `key` is stable for the row's lifetime: the
/// client_id for messages sent from this user (so a local echo keeps its key
/// when the server confirms it), "channel:seq" for everybody else's.
struct TimelineItem {
  std::string key;
  Message message;
  std::optional<OpId> op;         // the outbox op of a local echo (own messages)
  OpState state = OpState::sent;  // queued/sending/failed while only local
  friend bool operator==(const TimelineItem&, const TimelineItem&) = default;
};

/// One row of the channel list; key = channel id.
struct ChannelItem {
  std::string key;
  Channel channel;
  friend bool operator==(const ChannelItem&, const ChannelItem&) = default;
};

}  // namespace chatsdk
