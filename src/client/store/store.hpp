// The client's SQLite cache and outbox.
//
// Holds what the app must see before any network I/O (channel list, recent
// messages), the sync cursors, recorded history gaps, and the outbox op-log.
// Every write is short; callers group writes of one input into one
// transaction (Transaction below). A Transaction opened while another is
// open nests (a savepoint): the core opens one transaction around a whole
// poll batch and each input inside it stays atomic on its own. Schema changes go through versioned
// migrations (store_schema.cpp) that never drop outbox rows.
// Not thread-safe: owned by the loop thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chatsdk/result.hpp"
#include "chatsdk/types.hpp"
#include "client/store/sqlite_db.hpp"

namespace chatsdk::client {

/// An outbox op with everything needed to (re)send it.
struct OpRow {
  Op op;
  // payload (which fields matter depends on op.kind)
  std::string body;
  Seq reply_to = 0;
  std::vector<std::string> mentions;
  std::string metadata;
  std::string emoji;
  std::vector<std::string> users;
  std::string target_client_id;  // edit/delete/react of a local message not yet sent
  ChannelKind create_kind = ChannelKind::group;
  std::string name;       // channel name / profile display name
  bool has_name = false;  // profile_set: field present
  std::string avatar_url;
  bool has_avatar = false;
  bool is_public = false;
  bool has_public = false;    // channel_update: `public` present
  bool has_metadata = false;  // channel_update: `metadata` present
  Role role = Role::member;   // member_role: the new role (users[0] is the member)
  std::uint32_t attempts = 0;
  std::string lane;     // ops of one lane are replayed strictly in order
  Version version = 0;  // change version assigned by the server (0 = none/unknown)
};

struct Gap {
  Seq from = 0;  // first missing seq
  Seq to = 0;    // last missing seq
};

/// Per-channel sync state kept next to the channel row.
struct ChannelRow {
  Channel channel;
  Version cursor = 0;  // last channel version fully applied; 0 = never synced
};

class Store {
 public:
  /// Opens (creating or migrating) the database. `max_schema` limits the
  /// migrations applied (tests build old-schema files with it); 0 = latest.
  static Result<std::unique_ptr<Store>> open(const std::string& path, int max_schema = 0);
  static int latest_schema();

  int schema_version();

  // ---- transactions ---------------------------------------------------------
  Result<void> begin() { return db_.begin(); }
  Result<void> commit() { return db_.commit(); }
  void rollback() noexcept { db_.rollback(); }
  bool in_transaction() const noexcept { return db_.in_transaction(); }
  /// A poll batch's transaction. Its writes (received messages, cursors, op
  /// state moves) are all things the server gives back after a loss (a
  /// resync; a resend deduped by client_id), so it commits with
  /// synchronous=NORMAL: atomic and safe against a process crash, only a
  /// power loss may drop the newest batches (whole, newest first; WAL keeps
  /// the file consistent). A later FULL commit (a new op) syncs them too.
  /// Saves an fsync per poll on the game thread.
  Result<void> begin_batch();
  Result<void> commit_batch();
  void rollback_batch() noexcept;
  Result<void> savepoint() { return db_.savepoint(); }
  Result<void> release() { return db_.release(); }
  void rollback_to() noexcept { db_.rollback_to(); }

  // ---- key/value --------------------------------------------------------------
  std::string meta(const char* key);
  void set_meta(const char* key, const std::string& value);

  // ---- channels ---------------------------------------------------------------
  std::vector<ChannelRow> channels();  // with last_message filled
  std::optional<ChannelRow> channel(const std::string& id);
  /// The row alone, without last_message (one indexed read: the per-message path).
  std::optional<ChannelRow> channel_row(const std::string& id);
  void upsert_channel(const ChannelRow& row);  // full replace of channel fields + cursor
  /// Writes just the counters and the cursor of an existing row (the
  /// per-message path: an in-place UPDATE, no delete + insert of the row).
  void update_channel_counters(const ChannelRow& row);
  void delete_channel(const std::string& id);  // with its messages, gaps, members

  // ---- messages ---------------------------------------------------------------
  /// Inserts or replaces when `m.version` is newer than the stored one.
  /// Returns true when the row changed.
  bool upsert_message(const Message& m, bool mentions_me);
  std::optional<Message> message(const std::string& channel, Seq seq);
  std::optional<Message> message_by_client_id(const std::string& channel,
                                              const std::string& client_id);
  /// Messages with seq >= from, ascending.
  std::vector<Message> messages_from(const std::string& channel, Seq from);
  /// Up to `n` messages with seq < before (0 = no bound), ascending.
  std::vector<Message> messages_before(const std::string& channel, Seq before, std::size_t n);
  Seq max_seq(const std::string& channel);
  Seq min_seq(const std::string& channel);
  std::uint32_t count_mentions_after(const std::string& channel, Seq after);
  std::uint64_t message_count();

  // ---- gaps -------------------------------------------------------------------
  void add_gap(const std::string& channel, Gap g);
  std::vector<Gap> gaps(const std::string& channel);  // ascending
  /// Marks [from, to] as held: shrinks or removes overlapping gaps.
  void fill_gap(const std::string& channel, Seq from, Seq to);

  // ---- members and profiles ---------------------------------------------------
  void upsert_member(const std::string& channel, const Member& m);
  void remove_member(const std::string& channel, const std::string& user);
  std::vector<Member> members(const std::string& channel);
  void upsert_profile(const User& u);
  std::optional<User> profile(const std::string& user);

  // ---- outbox -----------------------------------------------------------------
  /// Persists a new op and fills op.id. The op is durable when this returns ok
  /// (outside a transaction) or when the enclosing transaction commits.
  Result<void> insert_op(OpRow& row);
  Result<void> update_op(const OpRow& row);
  /// Sends in sent/delivered state whose receipts are still tracked after a restart.
  static constexpr std::size_t kTrackedSends = 256;
  /// Ops not yet finished (queued, sending, failed) and the newest
  /// kTrackedSends sends in sent/delivered (they can still become read).
  std::vector<OpRow> open_ops();
  /// Deletes finished ops (sent, delivered, read, cancelled) beyond the newest
  /// `keep`; never an unfinished one. Returns rows deleted.
  std::size_t prune_finished_ops(std::size_t keep);
  std::optional<OpRow> op(OpId id);
  std::uint64_t op_count();

  // ---- cache size -------------------------------------------------------------
  std::uint64_t used_bytes();
  /// Messages per channel that eviction never touches.
  static constexpr std::size_t kKeepPerChannel = 50;
  /// Deletes up to `n` of the oldest messages, never any with seq >= the
  /// channel's protected floor (open timelines), never the newest
  /// kKeepPerChannel of a channel. Returns rows deleted.
  std::size_t evict_oldest(std::size_t n, const std::vector<std::pair<std::string, Seq>>& protect);

  // ---- suspension -------------------------------------------------------------
  /// Ends any transaction, resets every statement, checkpoints the WAL.
  void quiesce() noexcept;
  int active_statements() const noexcept { return db_.active_statements(); }

  const Error& last_error() const { return db_.last_error(); }
  Db& db() { return db_; }

 private:
  Result<void> migrate(int max_schema);
  Message read_message(const Stmt& s, int first_col = 0) const;
  OpRow read_op(const Stmt& s) const;

  Db db_;
};

/// Scoped transaction: commits on commit(), rolls back otherwise. Inside an
/// open transaction it is a savepoint: commit() keeps its writes in the outer
/// transaction (durable when that commits), destruction undoes just them.
class Transaction {
 public:
  explicit Transaction(Store& s)
      : s_(s), nested_(s.in_transaction()), ok_((nested_ ? s.savepoint() : s.begin()).ok()) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (ok_) undo();
  }
  Result<void> commit() {
    if (!ok_) return Error{Errc::io_error, "transaction not started"};
    ok_ = false;
    auto r = nested_ ? s_.release() : s_.commit();
    if (!r) undo();
    return r;
  }
  bool started() const { return ok_; }
  bool nested() const { return nested_; }

 private:
  void undo() noexcept {
    if (nested_)
      s_.rollback_to();
    else
      s_.rollback();
  }
  Store& s_;
  bool nested_;
  bool ok_;
};

}  // namespace chatsdk::client
