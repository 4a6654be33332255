// Every frame of protocol v1 (docs/protocol.md is the normative description).
//
// ClientFrame: what a client sends (requests). ServerFrame: what a server sends
// (replies, carrying the request's `id`, and pushed events, without one).
// Each frame struct has a wire name `kType` and one `fields()` list; adding a
// frame means adding a struct here, adding it to the variant, and documenting
// it (a test compares the variants with docs/protocol.md).
#pragma once

#include <string_view>
#include <variant>

#include "common/protocol/types.hpp"

namespace chatsdk::proto {

// =============================== client -> server ==============================

/// First frame on every connection: authenticates with a JWT.
struct Hello {
  static constexpr std::string_view kType = "hello";
  RequestId id = 0;
  std::string token;
  std::uint32_t protocol = 0;
  std::string device_id;
  std::string client;  // free-form "name/version" of the client library

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("token", token, Str::token);
    v.req("protocol", protocol);
    v.opt("device_id", device_id, Str::id);
    v.opt("client", client, Str::name);
  }
};

/// Replaces the session's token before it expires (same user only).
struct AuthRefresh {
  static constexpr std::string_view kType = "auth_refresh";
  RequestId id = 0;
  std::string token;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("token", token, Str::token);
  }
};

/// Application-level heartbeat; answered with `pong`.
struct Ping {
  static constexpr std::string_view kType = "ping";
  RequestId id = 0;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
  }
};

/// Catch up on every channel: one cursor per channel the client knows.
struct Sync {
  static constexpr std::string_view kType = "sync";
  RequestId id = 0;
  std::vector<ChannelCursor> channels;
  std::uint32_t limit = 0;  // max changes per channel; 0 = server default

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.opt("channels", channels);
    v.opt("limit", limit);
  }
};

struct Send {
  static constexpr std::string_view kType = "send";
  RequestId id = 0;
  std::string channel;
  std::string client_id;
  std::string body;
  Seq reply_to = 0;
  std::vector<std::string> mentions;
  JsonObject metadata;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("channel", channel, Str::id);
    v.req("client_id", client_id, Str::id);
    v.req("body", body, Str::body);
    v.opt("reply_to", reply_to);
    v.opt("mentions", mentions, Str::id);
    v.opt("metadata", metadata);
  }
};

struct Edit {
  static constexpr std::string_view kType = "edit";
  RequestId id = 0;
  std::string channel;
  Seq seq = 0;
  std::string client_id;
  std::string body;
  JsonObject metadata;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("channel", channel, Str::id);
    v.req("seq", seq);
    v.req("client_id", client_id, Str::id);
    v.req("body", body, Str::body);
    v.opt("metadata", metadata);
  }
};

struct Delete {
  static constexpr std::string_view kType = "delete";
  RequestId id = 0;
  std::string channel;
  Seq seq = 0;
  std::string client_id;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("channel", channel, Str::id);
    v.req("seq", seq);
    v.req("client_id", client_id, Str::id);
  }
};

struct React {
  static constexpr std::string_view kType = "react";
  RequestId id = 0;
  std::string channel;
  Seq seq = 0;
  std::string client_id;
  std::string emoji;
  ReactAction action = ReactAction::add;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("channel", channel, Str::id);
    v.req("seq", seq);
    v.req("client_id", client_id, Str::id);
    v.req("emoji", emoji, Str::emoji);
    v.req("action", action);
  }
};

/// Moves the user's read cursor forward (never backward).
struct MarkRead {
  static constexpr std::string_view kType = "mark_read";
  RequestId id = 0;
  std::string channel;
  Seq seq = 0;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("channel", channel, Str::id);
    v.req("seq", seq);
  }
};

/// Moves delivered cursors forward, batched over channels.
struct MarkDelivered {
  static constexpr std::string_view kType = "mark_delivered";
  RequestId id = 0;
  std::vector<SeqCursor> cursors;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("cursors", cursors);
  }
};

struct Typing {
  static constexpr std::string_view kType = "typing";
  std::string channel;
  TypingState state = TypingState::start;

  template <class V>
  void fields(V& v) {
    v.req("channel", channel, Str::id);
    v.req("state", state);
  }
};

/// Keyset history page. `before`: the `limit` messages just below `before`;
/// `after`: the `limit` messages just above `after` (`after: 0` = from the
/// first message); neither: the newest page. At most one of the two.
/// Messages are returned in seq order.
struct History {
  static constexpr std::string_view kType = "history";
  RequestId id = 0;
  std::string channel;
  std::optional<Seq> before;
  std::optional<Seq> after;
  std::uint32_t limit = 0;  // 0 = server default; capped at the server's history_max

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("channel", channel, Str::id);
    v.opt("before", before);
    v.opt("after", after);
    v.opt("limit", limit);
  }
};

struct ChannelCreate {
  static constexpr std::string_view kType = "channel_create";
  RequestId id = 0;
  std::string client_id;
  ChannelKind kind = ChannelKind::group;
  std::string channel;  // requested id; empty = server assigns (direct: always derived)
  std::string name;
  bool is_public = false;
  std::vector<std::string> members;  // besides the creator
  JsonObject metadata;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("client_id", client_id, Str::id);
    v.req("kind", kind);
    v.opt("channel", channel, Str::id);
    v.opt("name", name, Str::name);
    v.opt("public", is_public);
    v.opt("members", members, Str::id);
    v.opt("metadata", metadata);
  }
};

struct ChannelUpdate {
  static constexpr std::string_view kType = "channel_update";
  RequestId id = 0;
  std::string channel;
  std::string client_id;
  std::optional<std::string> name;
  std::optional<bool> is_public;
  std::optional<JsonObject> metadata;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("channel", channel, Str::id);
    v.req("client_id", client_id, Str::id);
    v.opt("name", name, Str::name);
    v.opt("public", is_public);
    v.opt("metadata", metadata);
  }
};

struct MembersAdd {
  static constexpr std::string_view kType = "members_add";
  RequestId id = 0;
  std::string channel;
  std::string client_id;
  std::vector<std::string> users;
  Role role = Role::member;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("channel", channel, Str::id);
    v.req("client_id", client_id, Str::id);
    v.req("users", users, Str::id);
    v.opt("role", role);
  }
};

/// Removes members; removing yourself is leaving.
struct MembersRemove {
  static constexpr std::string_view kType = "members_remove";
  RequestId id = 0;
  std::string channel;
  std::string client_id;
  std::vector<std::string> users;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("channel", channel, Str::id);
    v.req("client_id", client_id, Str::id);
    v.req("users", users, Str::id);
  }
};

struct MemberRole {
  static constexpr std::string_view kType = "member_role";
  RequestId id = 0;
  std::string channel;
  std::string client_id;
  std::string user;
  Role role = Role::member;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("channel", channel, Str::id);
    v.req("client_id", client_id, Str::id);
    v.req("user", user, Str::id);
    v.req("role", role);
  }
};

/// Joins a public channel.
struct Join {
  static constexpr std::string_view kType = "join";
  RequestId id = 0;
  std::string channel;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("channel", channel, Str::id);
  }
};

/// Pages through a channel's members (user id order).
struct MembersList {
  static constexpr std::string_view kType = "members_list";
  RequestId id = 0;
  std::string channel;
  std::string after;  // user id to continue after; empty = from the start
  std::uint32_t limit = 0;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("channel", channel, Str::id);
    v.opt("after", after, Str::id);
    v.opt("limit", limit);
  }
};

struct ProfileSet {
  static constexpr std::string_view kType = "profile_set";
  RequestId id = 0;
  std::optional<std::string> display_name;
  std::optional<std::string> avatar_url;
  std::optional<JsonObject> metadata;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.opt("display_name", display_name, Str::name);
    v.opt("avatar_url", avatar_url, Str::url);
    v.opt("metadata", metadata);
  }
};

struct ProfilesGet {
  static constexpr std::string_view kType = "profiles_get";
  RequestId id = 0;
  std::vector<std::string> users;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("users", users, Str::id);
  }
};

struct PresenceQuery {
  static constexpr std::string_view kType = "presence_query";
  RequestId id = 0;
  std::vector<std::string> users;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("users", users, Str::id);
  }
};

using ClientFrame =
    std::variant<Hello, AuthRefresh, Ping, Sync, Send, Edit, Delete, React, MarkRead, MarkDelivered,
                 Typing, History, ChannelCreate, ChannelUpdate, MembersAdd, MembersRemove,
                 MemberRole, Join, MembersList, ProfileSet, ProfilesGet, PresenceQuery>;

// =============================== server -> client ==============================

struct Welcome {
  static constexpr std::string_view kType = "welcome";
  RequestId id = 0;
  std::string user;
  std::string session;
  std::uint32_t protocol = 0;
  TimeMs server_time = 0;
  std::uint32_t heartbeat_ms = 0;  // send a ping at least this often
  Limits limits;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("user", user, Str::id);
    v.req("session", session, Str::id);
    v.req("protocol", protocol);
    v.req("server_time", server_time);
    v.req("heartbeat_ms", heartbeat_ms);
    v.req("limits", limits);
  }
};

struct Pong {
  static constexpr std::string_view kType = "pong";
  RequestId id = 0;
  TimeMs server_time = 0;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("server_time", server_time);
  }
};

/// Generic success for requests without a richer reply.
struct Ok {
  static constexpr std::string_view kType = "ok";
  RequestId id = 0;
  std::string channel;
  Version version = 0;  // channel version the change was assigned, when it made one

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.opt("channel", channel, Str::id);
    v.opt("version", version);
  }
};

/// Ack of a first-time send: stored durably with this seq.
struct Sent {
  static constexpr std::string_view kType = "sent";
  RequestId id = 0;
  std::string channel;
  std::string client_id;
  Seq seq = 0;
  Version version = 0;
  TimeMs created_at = 0;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("channel", channel, Str::id);
    v.req("client_id", client_id, Str::id);
    v.req("seq", seq);
    v.req("version", version);
    v.req("created_at", created_at);
  }
};

/// The mutation with this client_id was applied before (a resend): here is the
/// original result. Never an error; nothing was applied or fanned out again.
struct AlreadyApplied {
  static constexpr std::string_view kType = "already_applied";
  RequestId id = 0;
  std::string channel;
  std::string client_id;
  Seq seq = 0;          // for sends, edits, deletes, reactions: the message's seq
  Version version = 0;  // version the original change was assigned

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("channel", channel, Str::id);
    v.req("client_id", client_id, Str::id);
    v.opt("seq", seq);
    v.opt("version", version);
  }
};

struct SyncResult {
  static constexpr std::string_view kType = "sync_result";
  RequestId id = 0;
  std::vector<ChannelSync> channels;
  bool more = false;  // some channel has more: sync again with the new cursors

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.opt("channels", channels);
    v.opt("more", more);
  }
};

struct HistoryPage {
  static constexpr std::string_view kType = "history_page";
  RequestId id = 0;
  std::string channel;
  std::vector<Message> messages;  // ascending seq
  bool more_before = false;       // older messages exist
  bool more_after = false;        // newer messages exist

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("channel", channel, Str::id);
    v.opt("messages", messages);
    v.opt("more_before", more_before);
    v.opt("more_after", more_after);
  }
};

/// Reply to channel_create and join.
struct ChannelReply {
  static constexpr std::string_view kType = "channel";
  RequestId id = 0;
  ChannelInfo info;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("info", info);
  }
};

struct MembersPage {
  static constexpr std::string_view kType = "members_page";
  RequestId id = 0;
  std::string channel;
  std::vector<Member> members;
  bool more = false;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("channel", channel, Str::id);
    v.opt("members", members);
    v.opt("more", more);
  }
};

struct Profiles {
  static constexpr std::string_view kType = "profiles";
  RequestId id = 0;
  std::vector<UserProfile> users;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.opt("users", users);
  }
};

struct PresenceList {
  static constexpr std::string_view kType = "presence_list";
  RequestId id = 0;
  std::vector<PresenceInfo> users;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.opt("users", users);
  }
};

/// A request failed. `id` is the request's (0 when the frame was unreadable).
struct ErrorFrame {
  static constexpr std::string_view kType = "error";
  RequestId id = 0;
  std::string code;  // an errc_list.inc name; unknown names mean a newer server
  std::string message;
  std::uint32_t retry_after_ms = 0;

  template <class V>
  void fields(V& v) {
    v.opt("id", id);
    v.req("code", code, Str::id);
    v.opt("message", message, Str::text);
    v.opt("retry_after_ms", retry_after_ms);
  }
};

// ---- events (no id) -----------------------------------------------------------

/// A message was created or changed: carries its full current state (upsert by
/// channel+seq when `message.version` is newer than what the client holds).
struct MessageEvent {
  static constexpr std::string_view kType = "message";
  MessageChange change = MessageChange::created;
  std::string actor;  // who made the change
  std::string emoji;  // change == reaction
  ReactAction action = ReactAction::add;
  Message message;

  template <class V>
  void fields(V& v) {
    v.req("change", change);
    v.opt("actor", actor, Str::id);
    v.opt("emoji", emoji, Str::emoji);
    v.opt("action", action);
    v.req("message", message);
  }
};

struct MemberEvent {
  static constexpr std::string_view kType = "member";
  std::string channel;
  Version version = 0;
  MemberChange change = MemberChange::added;
  std::string user;
  Role role = Role::member;
  std::string actor;
  std::uint32_t member_count = 0;

  template <class V>
  void fields(V& v) {
    v.req("channel", channel, Str::id);
    v.req("version", version);
    v.req("change", change);
    v.req("user", user, Str::id);
    v.opt("role", role);
    v.opt("actor", actor, Str::id);
    v.opt("member_count", member_count);
  }
};

/// The receiving user was added to a channel (sync it from version 0).
struct ChannelAdded {
  static constexpr std::string_view kType = "channel_added";
  ChannelInfo info;

  template <class V>
  void fields(V& v) {
    v.req("info", info);
  }
};

/// The receiving user is no longer a member of the channel.
struct ChannelRemoved {
  static constexpr std::string_view kType = "channel_removed";
  std::string channel;
  Version version = 0;

  template <class V>
  void fields(V& v) {
    v.req("channel", channel, Str::id);
    v.opt("version", version);
  }
};

struct ChannelUpdated {
  static constexpr std::string_view kType = "channel_updated";
  ChannelInfo info;  // info.version is the change's version

  template <class V>
  void fields(V& v) {
    v.req("info", info);
  }
};

/// A member's read/delivered cursors moved (also sent to the user's own devices).
struct Receipt {
  static constexpr std::string_view kType = "receipt";
  std::string channel;
  std::string user;
  Seq read_seq = 0;
  Seq delivered_seq = 0;

  template <class V>
  void fields(V& v) {
    v.req("channel", channel, Str::id);
    v.req("user", user, Str::id);
    v.opt("read_seq", read_seq);
    v.opt("delivered_seq", delivered_seq);
  }
};

struct TypingEvent {
  static constexpr std::string_view kType = "typing";
  std::string channel;
  std::string user;
  TypingState state = TypingState::start;

  template <class V>
  void fields(V& v) {
    v.req("channel", channel, Str::id);
    v.req("user", user, Str::id);
    v.req("state", state);
  }
};

struct PresenceEvent {
  static constexpr std::string_view kType = "presence";
  std::string user;
  bool online = false;
  TimeMs last_seen = 0;

  template <class V>
  void fields(V& v) {
    v.req("user", user, Str::id);
    v.req("online", online);
    v.opt("last_seen", last_seen);
  }
};

/// Out-of-band server news: shutting down, about to disconnect a slow reader,
/// token close to expiry.
struct Notice {
  static constexpr std::string_view kType = "notice";
  NoticeCode code = NoticeCode::going_away;
  std::string message;
  std::uint32_t retry_after_ms = 0;

  template <class V>
  void fields(V& v) {
    v.req("code", code);
    v.opt("message", message, Str::text);
    v.opt("retry_after_ms", retry_after_ms);
  }
};

using ServerFrame = std::variant<Welcome, Pong, Ok, Sent, AlreadyApplied, SyncResult, HistoryPage,
                                 ChannelReply, MembersPage, Profiles, PresenceList, ErrorFrame,
                                 MessageEvent, MemberEvent, ChannelAdded, ChannelRemoved,
                                 ChannelUpdated, Receipt, TypingEvent, PresenceEvent, Notice>;

/// WebSocket close codes used by servers (see docs/protocol.md).
enum class CloseCode : std::uint16_t {
  normal = 1000,
  going_away = 1001,       // server shutting down: reconnect with backoff
  invalid_payload = 1007,  // WebSocket-level invalid UTF-8
  too_big = 1009,          // a single message exceeded the hard limit many times
  auth_failed = 4001,      // bad token: do not retry with the same token
  auth_timeout = 4002,     // no hello within the handshake timeout
  token_expired = 4003,    // refresh the token, then reconnect
  protocol_error = 4004,   // too many unreadable frames in a row
  unsupported_protocol = 4005,
  rate_limited = 4008,   // kept flooding after rate_limited errors
  slow_consumer = 4009,  // send queue overflowed: reconnect and sync
  idle_timeout = 4010,   // no frame (not even ping) within 2.5 heartbeats
  kicked = 4011,         // removed by an administrator
};

}  // namespace chatsdk::proto
