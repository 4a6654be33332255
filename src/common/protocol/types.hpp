// Value types that appear inside frames: messages, channels, members, cursors.
//
// Every struct lists its wire fields once, in `fields(V&)`; the codec, the
// docs check and the tests all walk that list, so a field cannot be encoded,
// decoded or documented differently in two places.
//
//   v.req(name, member, constraint...)  field must be present
//   v.opt(name, member, constraint...)  may be absent: stays default-valued and
//                                       is omitted on encode when default
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatsdk::proto {

using RequestId = std::uint64_t;  // client-chosen, echoed in the reply; 0 = none
using Seq = std::uint64_t;        // per-channel message sequence, gapless from 1
using Version = std::uint64_t;    // per-channel change counter
using TimeMs = std::int64_t;      // milliseconds since the Unix epoch (server clock)

/// What a string field may hold; the codec enforces it.
enum class Str {
  id,     // 1..128 bytes of [A-Za-z0-9_.:@-]: user, channel, client and device ids
  body,   // message body: UTF-8, up to kMaxBodyBytes
  name,   // display/channel name: up to kMaxNameBytes, no control characters
  emoji,  // 1..kMaxEmojiBytes, no whitespace or control characters
  token,  // JWT: 1..kMaxTokenBytes of base64url and dots
  url,    // up to kMaxUrlBytes, no whitespace or control characters
  text,   // human-readable detail: up to kMaxTextBytes
};

/// A JSON object carried opaquely (message/channel/profile metadata).
/// Holds compact JSON text; empty string = absent.
struct JsonObject {
  std::string json;
  bool empty() const { return json.empty(); }
  friend bool operator==(const JsonObject&, const JsonObject&) = default;
};

// ---- enums: values are indexes into their name table -------------------------

enum class ChannelKind : std::uint8_t { direct, group, large };
inline constexpr std::array<std::string_view, 3> kChannelKindNames{"direct", "group", "large"};
constexpr auto enum_names(ChannelKind) {
  return kChannelKindNames;
}

enum class Role : std::uint8_t { member, moderator, owner };
inline constexpr std::array<std::string_view, 3> kRoleNames{"member", "moderator", "owner"};
constexpr auto enum_names(Role) {
  return kRoleNames;
}

enum class ReactAction : std::uint8_t { add, remove };
inline constexpr std::array<std::string_view, 2> kReactActionNames{"add", "remove"};
constexpr auto enum_names(ReactAction) {
  return kReactActionNames;
}

enum class TypingState : std::uint8_t { start, stop };
inline constexpr std::array<std::string_view, 2> kTypingStateNames{"start", "stop"};
constexpr auto enum_names(TypingState) {
  return kTypingStateNames;
}

/// Why a `message` event was sent.
enum class MessageChange : std::uint8_t { created, edited, deleted, reaction, reply };
inline constexpr std::array<std::string_view, 5> kMessageChangeNames{"created", "edited", "deleted",
                                                                     "reaction", "reply"};
constexpr auto enum_names(MessageChange) {
  return kMessageChangeNames;
}

enum class MemberChange : std::uint8_t { added, removed, role };
inline constexpr std::array<std::string_view, 3> kMemberChangeNames{"added", "removed", "role"};
constexpr auto enum_names(MemberChange) {
  return kMemberChangeNames;
}

/// Per-channel outcome of a sync request.
enum class SyncStatus : std::uint8_t { delta, too_far_behind, joined, removed };
inline constexpr std::array<std::string_view, 4> kSyncStatusNames{"delta", "too_far_behind",
                                                                  "joined", "removed"};
constexpr auto enum_names(SyncStatus) {
  return kSyncStatusNames;
}

enum class NoticeCode : std::uint8_t { going_away, slow_consumer, token_expiring };
inline constexpr std::array<std::string_view, 3> kNoticeCodeNames{"going_away", "slow_consumer",
                                                                  "token_expiring"};
constexpr auto enum_names(NoticeCode) {
  return kNoticeCodeNames;
}

// ---- structs ------------------------------------------------------------------

struct Reaction {
  std::string emoji;
  std::uint32_t count = 0;
  bool mine = false;  // the receiving user reacted with this emoji (per-user replies only)

  template <class V>
  void fields(V& v) {
    v.req("emoji", emoji, Str::emoji);
    v.req("count", count);
    v.opt("mine", mine);
  }
  friend bool operator==(const Reaction&, const Reaction&) = default;
};

struct Message {
  std::string channel;
  Seq seq = 0;
  Version version = 0;  // channel version of the last change to this message
  std::string sender;
  std::string client_id;  // sender's idempotency key
  std::string body;       // empty when deleted
  TimeMs created_at = 0;
  TimeMs edited_at = 0;  // 0 = never edited
  bool deleted = false;  // tombstone
  Seq reply_to = 0;      // parent message seq in the same channel; 0 = not a reply
  std::uint32_t reply_count = 0;
  std::vector<Reaction> reactions;
  std::vector<std::string> mentions;  // user ids mentioned
  JsonObject metadata;                // app data, attachments (media issue)

  template <class V>
  void fields(V& v) {
    v.req("channel", channel, Str::id);
    v.req("seq", seq);
    v.req("version", version);
    v.req("sender", sender, Str::id);
    v.opt("client_id", client_id, Str::id);
    v.opt("body", body, Str::body);
    v.req("created_at", created_at);
    v.opt("edited_at", edited_at);
    v.opt("deleted", deleted);
    v.opt("reply_to", reply_to);
    v.opt("reply_count", reply_count);
    v.opt("reactions", reactions);
    v.opt("mentions", mentions, Str::id);
    v.opt("metadata", metadata);
  }
  friend bool operator==(const Message&, const Message&) = default;
};

struct ChannelInfo {
  std::string channel;
  ChannelKind kind = ChannelKind::group;
  std::string name;
  bool is_public = false;  // anyone may `join`
  std::string created_by;
  TimeMs created_at = 0;
  std::uint32_t member_count = 0;
  Seq last_seq = 0;          // highest message seq
  Version version = 0;       // channel change counter
  Role role = Role::member;  // the receiving user's role
  JsonObject metadata;

  template <class V>
  void fields(V& v) {
    v.req("channel", channel, Str::id);
    v.req("kind", kind);
    v.opt("name", name, Str::name);
    v.opt("public", is_public);
    v.opt("created_by", created_by, Str::id);
    v.opt("created_at", created_at);
    v.opt("member_count", member_count);
    v.opt("last_seq", last_seq);
    v.opt("version", version);
    v.opt("role", role);
    v.opt("metadata", metadata);
  }
  friend bool operator==(const ChannelInfo&, const ChannelInfo&) = default;
};

struct Member {
  std::string user;
  Role role = Role::member;
  bool removed = false;  // in sync deltas: the user left or was removed
  Version version = 0;   // channel version of the last change to this membership
  Seq read_seq = 0;      // only in channels below the receipt threshold

  template <class V>
  void fields(V& v) {
    v.req("user", user, Str::id);
    v.opt("role", role);
    v.opt("removed", removed);
    v.opt("version", version);
    v.opt("read_seq", read_seq);
  }
  friend bool operator==(const Member&, const Member&) = default;
};

/// A client's position in one channel, sent in `sync`.
struct ChannelCursor {
  std::string channel;
  Version version = 0;  // last channel version the client applied

  template <class V>
  void fields(V& v) {
    v.req("channel", channel, Str::id);
    v.req("version", version);
  }
  friend bool operator==(const ChannelCursor&, const ChannelCursor&) = default;
};

/// A receipt position in one channel (mark_delivered batches these).
struct SeqCursor {
  std::string channel;
  Seq seq = 0;

  template <class V>
  void fields(V& v) {
    v.req("channel", channel, Str::id);
    v.req("seq", seq);
  }
  friend bool operator==(const SeqCursor&, const SeqCursor&) = default;
};

/// One channel in a sync reply.
struct ChannelSync {
  std::string channel;
  SyncStatus status = SyncStatus::delta;
  std::optional<ChannelInfo> info;  // present for joined, too_far_behind, or when info changed
  std::vector<Message> messages;    // delta: changed messages by version; else newest page by seq
  std::vector<Member> members;      // changed memberships (delta) or all (joined, small channels)
  Version version = 0;              // cursor to store once everything here is applied
  Version head_version = 0;         // channel's current version (more pages when > version)
  Seq last_seq = 0;
  Seq read_seq = 0;       // the user's read cursor
  Seq delivered_seq = 0;  // the user's delivered cursor
  std::uint32_t unread = 0;
  std::uint32_t mentions = 0;  // unread messages mentioning the user

  template <class V>
  void fields(V& v) {
    v.req("channel", channel, Str::id);
    v.req("status", status);
    v.opt("info", info);
    v.opt("messages", messages);
    v.opt("members", members);
    v.opt("version", version);
    v.opt("head_version", head_version);
    v.opt("last_seq", last_seq);
    v.opt("read_seq", read_seq);
    v.opt("delivered_seq", delivered_seq);
    v.opt("unread", unread);
    v.opt("mentions", mentions);
  }
  friend bool operator==(const ChannelSync&, const ChannelSync&) = default;
};

struct UserProfile {
  std::string user;
  std::string display_name;
  std::string avatar_url;
  TimeMs updated_at = 0;
  JsonObject metadata;

  template <class V>
  void fields(V& v) {
    v.req("user", user, Str::id);
    v.opt("display_name", display_name, Str::name);
    v.opt("avatar_url", avatar_url, Str::url);
    v.opt("updated_at", updated_at);
    v.opt("metadata", metadata);
  }
  friend bool operator==(const UserProfile&, const UserProfile&) = default;
};

struct PresenceInfo {
  std::string user;
  bool online = false;
  TimeMs last_seen = 0;  // when the user's last session ended; 0 = unknown/never

  template <class V>
  void fields(V& v) {
    v.req("user", user, Str::id);
    v.req("online", online);
    v.opt("last_seen", last_seen);
  }
  friend bool operator==(const PresenceInfo&, const PresenceInfo&) = default;
};

/// Operational limits the server announces in `welcome`.
struct Limits {
  std::uint32_t max_frame_bytes = 0;
  std::uint32_t max_body_bytes = 0;
  std::uint32_t max_metadata_bytes = 0;
  std::uint32_t history_max = 0;         // messages per history page
  std::uint32_t sync_channel_max = 0;    // changes per channel per sync page
  std::uint32_t sends_per_second = 0;    // per user, sustained
  std::uint32_t typing_threshold = 0;    // channels above this many members get no typing
  std::uint32_t receipts_threshold = 0;  // ... no per-user receipts or presence

  template <class V>
  void fields(V& v) {
    v.req("max_frame_bytes", max_frame_bytes);
    v.req("max_body_bytes", max_body_bytes);
    v.opt("max_metadata_bytes", max_metadata_bytes);
    v.opt("history_max", history_max);
    v.opt("sync_channel_max", sync_channel_max);
    v.opt("sends_per_second", sends_per_second);
    v.opt("typing_threshold", typing_threshold);
    v.opt("receipts_threshold", receipts_threshold);
  }
  friend bool operator==(const Limits&, const Limits&) = default;
};

}  // namespace chatsdk::proto
