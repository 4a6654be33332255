// The server's durable store, behind an interface (SQLite now, PostgreSQL later).
//
// Contract:
//  - write(): mutations run on one writer thread, in submission order, grouped
//    into transactions (group commit: whatever is queued, bounded by
//    Config::group_commit_max_ops / _max_delay_us). Per-channel seq and version
//    are assigned inside the transaction that stores the change, so they are
//    gapless and never reused, also across restarts. `done` runs on the loop
//    thread (through LoopPoster) only after the transaction committed — or with
//    an error, in which case nothing of that op was stored.
//  - read(): queries run on a reader thread against the latest committed state.
//  - The writer re-checks membership and permissions authoritatively; the
//    engine's in-memory checks are a fast path, not the guarantee.
//  - Idempotency: every mutation that carries a client_id is deduplicated on
//    (user, client_id); a replay returns already_applied with the original
//    channel/seq/version and changes nothing.
//
// Threading: open(), load() and close() on the loop thread before/after
// serving; write()/read() from the loop thread; callbacks on the loop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "chatsdk/result.hpp"
#include "common/protocol/frames.hpp"
#include "server/api.hpp"
#include "server/config.hpp"

namespace chatsdk::server::store {

using proto::ChannelKind;
using proto::JsonObject;
using proto::Role;
using proto::Seq;
using proto::TimeMs;
using proto::Version;

// ---------------------------------------------------------------- snapshots

struct MemberRecord {
  std::string user;
  Role role = Role::member;
};

/// A channel as the engine caches it in memory (loaded at start, kept current
/// from write results).
struct ChannelRecord {
  proto::ChannelInfo info;  // info.role is meaningless here
  std::vector<MemberRecord> members;
};

struct StartupState {
  std::vector<ChannelRecord> channels;
};

// ---------------------------------------------------------------- writes

struct SendOp {
  std::string user, channel, client_id, body;
  Seq reply_to = 0;
  std::vector<std::string> mentions;
  JsonObject metadata;
  TimeMs now = 0;
};
struct EditOp {
  std::string user, channel, client_id, body;
  Seq seq = 0;
  JsonObject metadata;
  TimeMs now = 0;
};
struct DeleteOp {
  std::string user, channel, client_id;
  Seq seq = 0;
  bool as_admin = false;  // admin API: skip the permission check
  TimeMs now = 0;
};
struct ReactOp {
  std::string user, channel, client_id, emoji;
  Seq seq = 0;
  proto::ReactAction action = proto::ReactAction::add;
  TimeMs now = 0;
};
struct CreateChannelOp {
  std::string user, client_id;  // user empty = admin API (no owner among members unless listed)
  ChannelKind kind = ChannelKind::group;
  std::string channel;  // requested id; empty = generated; direct: derived from members
  std::string name;
  bool is_public = false;
  std::vector<MemberRecord> members;  // besides the creator (who becomes owner)
  JsonObject metadata;
  TimeMs now = 0;
};
struct UpdateChannelOp {
  std::string user, channel, client_id;
  std::optional<std::string> name;
  std::optional<bool> is_public;
  std::optional<JsonObject> metadata;
  bool as_admin = false;
  TimeMs now = 0;
};
struct AddMembersOp {
  std::string user, channel, client_id;  // client_id empty for join / admin
  std::vector<std::string> users;
  Role role = Role::member;
  bool join = false;  // self-join of a public channel
  bool as_admin = false;
  TimeMs now = 0;
};
struct RemoveMembersOp {
  std::string user, channel, client_id;
  std::vector<std::string> users;
  bool as_admin = false;
  TimeMs now = 0;
};
struct SetRoleOp {
  std::string user, channel, client_id, target;
  Role role = Role::member;
  bool as_admin = false;
  TimeMs now = 0;
};
struct SetProfileOp {
  std::string user;
  std::optional<std::string> display_name, avatar_url;
  std::optional<JsonObject> metadata;
  TimeMs now = 0;
};
/// Receipt cursors, written behind in batches. Cursors only move forward.
struct CursorUpdate {
  std::string user, channel;
  Seq read_seq = 0;       // 0 = unchanged
  Seq delivered_seq = 0;  // 0 = unchanged
};
struct CursorsOp {
  std::vector<CursorUpdate> updates;
};
struct LastSeenOp {
  std::string user;
  TimeMs last_seen = 0;
};

using WriteOp =
    std::variant<SendOp, EditOp, DeleteOp, ReactOp, CreateChannelOp, UpdateChannelOp, AddMembersOp,
                 RemoveMembersOp, SetRoleOp, SetProfileOp, CursorsOp, LastSeenOp>;

struct MemberChangeRecord {
  std::string user;
  proto::MemberChange change = proto::MemberChange::added;
  Role role = Role::member;
  Version version = 0;
};

struct WriteResult {
  Error error{Errc::ok, {}};     // error.code != ok: nothing was stored
  bool already_applied = false;  // replay of an earlier op: nothing changed, no fan-out
  std::string channel;
  Seq seq = 0;          // send/edit/delete/react: the message's seq
  Version version = 0;  // version assigned to the (last) change
  TimeMs created_at = 0;
  /// Messages whose state changed, in version order (a reply: the new message,
  /// then its parent with reply_count+1). reactions[].mine is not set.
  std::vector<proto::Message> messages;
  std::vector<MemberChangeRecord> member_changes;
  /// Channel state after create/update/membership ops (for the engine's cache).
  std::optional<ChannelRecord> channel_state;
  std::optional<proto::UserProfile> profile;  // after SetProfileOp

  bool ok() const { return error.code == Errc::ok; }
};

// ---------------------------------------------------------------- reads

struct SyncQuery {
  std::string user;
  std::vector<proto::ChannelCursor> cursors;
  std::uint32_t limit = 0;  // per channel; 0 = Config::sync_channel_max
};
struct HistoryQuery {
  std::string channel;
  std::string user;                  // for reactions[].mine; empty = admin
  std::optional<Seq> before, after;  // at most one; neither = newest page
  std::uint32_t limit = 0;
};
struct MembersQuery {
  std::string channel;
  std::string after;
  std::uint32_t limit = 0;
};
struct ProfilesQuery {
  std::vector<std::string> users;
};
struct LastSeenQuery {
  std::vector<std::string> users;
};
struct ChannelsQuery {  // admin: list channels
  std::string after;
  std::uint32_t limit = 100;
};

using ReadOp = std::variant<SyncQuery, HistoryQuery, MembersQuery, ProfilesQuery, LastSeenQuery,
                            ChannelsQuery>;

/// The frame-shaped answer (ids left 0: the engine sets them), or an error.
using ReadValue =
    std::variant<proto::SyncResult, proto::HistoryPage, proto::MembersPage, proto::Profiles,
                 proto::PresenceList, std::vector<proto::ChannelInfo>>;
using ReadResult = Result<ReadValue>;

// ---------------------------------------------------------------- interface

class Store {
 public:
  virtual ~Store() = default;
  /// Opens/creates the database, runs migrations, starts the threads.
  [[nodiscard]] virtual Result<void> open() = 0;
  /// Every channel with its members (startup; blocking is fine here).
  [[nodiscard]] virtual Result<StartupState> load() = 0;
  virtual void write(WriteOp op, std::function<void(WriteResult)> done) = 0;
  virtual void read(ReadOp op, std::function<void(ReadResult)> done) = 0;
  /// Finishes queued writes, stops the threads, closes the database; `done` on
  /// the loop thread.
  virtual void close(std::function<void()> done) = 0;
};

/// SQLite implementation (WAL; synchronous=NORMAL or FULL per Config::durability).
/// Files live under Config::data_dir (chat.db).
std::unique_ptr<Store> make_sqlite_store(const Config& config, LoopPoster& poster,
                                         Metrics& metrics);

}  // namespace chatsdk::server::store
