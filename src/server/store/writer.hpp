// Applies WriteOps to the database inside the writer thread's open
// transaction: authoritative checks, seq/version assignment, idempotency.
//
// Per-channel counters (last_seq, version, member_count) live here in memory,
// loaded at open, bumped as ops run. last_seq and version are not written to
// the channels row per batch: every change stores its seq or version in the
// row it writes, and loading derives them from those rows (rows.hpp,
// CHATSDK_CHAN_COLS), so after any crash the counters match the committed
// rows. The channels row is written when the member count changes (flush())
// and, with every lagging counter, at a clean close (write_lagging_rows()).
// When a transaction rolls back, rollback() restores every counter the batch
// touched.
//
// Semantic failures (not_member, ...) are detected before anything is written,
// so a failed op never leaves partial rows. Storage failures are sticky in the
// Db (db.failed()); the caller rolls the whole transaction back.
//
// Threading: writer thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "server/config.hpp"
#include "server/store/sqlite_db.hpp"
#include "server/store/store.hpp"

namespace chatsdk::server::store {

namespace writer_detail {
inline WriteResult failure(Errc code, std::string message) {
  WriteResult r;
  r.error = Error{code, std::move(message)};
  return r;
}
inline bool can_moderate(Role r) {
  return r == Role::moderator || r == Role::owner;
}
}  // namespace writer_detail

class Writer {
 public:
  Writer(const Config& config, Db& db);

  /// Loads every channel's counters (open, before the first batch).
  [[nodiscard]] Result<void> load();

  /// Starts tracking counter changes for a new transaction.
  void begin();
  /// Runs one op inside the open transaction.
  WriteResult apply(WriteOp& op);
  /// After COMMIT: moves the op's payload into its result (apply() leaves the
  /// op intact so that a failed batch can be retried op by op).
  void finish(WriteOp& op, WriteResult& result);
  /// Writes the rows of channels whose member count changed in this batch
  /// (call before COMMIT); the others' rows now lag their counters.
  void flush();
  /// Brings every lagging channel row up to date (clean close; inside a
  /// transaction).
  void write_lagging_rows();
  /// The transaction rolled back: restore counters touched since begin().
  void rollback();
  /// The transaction committed: forget the undo log.
  void committed();

 private:
  struct Channel {
    std::int64_t id = 0;
    proto::ChannelInfo info;  // last_seq, version, member_count are the live counters
    Version info_version = 0;
    std::uint64_t epoch = 0;  // batch that last touched it (undo tracking)
    bool row_lags = false;    // the channels row's last_seq/version are older
    /// Users seen to be active members (a cache in front of the members
    /// table for sends, filled on first use): erased on removal, cleared
    /// when a batch that touched the channel rolls back. Bounded by the
    /// channel's members who send.
    std::unordered_set<std::string> known_members;
  };
  /// `large` channels keep membership out of the change stream: joins and
  /// leaves of thousands of members must not bump the version every client
  /// follows (nor fan out to every member). Counts only, like receipts.
  static bool is_large(const Channel& ch) { return ch.info.kind == proto::ChannelKind::large; }
  /// The version a membership change gets: a new one, or (large) the current.
  static Version membership_version(Channel& ch) {
    return is_large(ch) ? ch.info.version : ++ch.info.version;
  }
  struct Undo {
    Channel* ch;
    Seq last_seq;
    Version version;
    std::uint32_t member_count;
    Version info_version;
    std::optional<proto::ChannelInfo> info;  // only when an op changed name/public/metadata
    bool created;
  };
  enum class OpKind : int { send = 0, edit, del, react, create, update, add, remove, role };

  WriteResult send(SendOp& op);
  WriteResult edit(EditOp& op);
  WriteResult del(DeleteOp& op);
  WriteResult react(ReactOp& op);
  WriteResult create(CreateChannelOp& op);
  WriteResult update(UpdateChannelOp& op);
  WriteResult add(AddMembersOp& op);
  WriteResult remove(RemoveMembersOp& op);
  WriteResult set_role(SetRoleOp& op);
  WriteResult profile(SetProfileOp& op);
  WriteResult cursors(CursorsOp& op);
  WriteResult last_seen(LastSeenOp& op);

  Channel* find(const std::string& cid);
  /// Saves the counters before the first change in this batch.
  void touch(Channel& ch, bool info_change = false);
  /// The active role of `user`, or nullopt when not a member.
  std::optional<Role> role_of(const Channel& ch, const std::string& user);
  /// Whether `user` is an active member (known_members, else role_of).
  bool is_member(Channel& ch, const std::string& user);
  /// A send with this key exists: fills `out` (already_applied), true.
  bool sent_before(const std::string& user, const std::string& client_id, WriteResult& out);
  /// Replay of a non-send mutation: fills `out` and returns true.
  bool replayed(const std::string& user, const std::string& client_id, WriteResult& out);
  void remember(OpKind kind, const std::string& user, const std::string& client_id,
                const WriteResult& result);
  /// Reads a message row; false when the seq does not exist.
  bool load_message(const Channel& ch, Seq seq, proto::Message& out);
  ChannelRecord channel_record(const Channel& ch);
  void advance_cursor(const std::string& user, std::int64_t channel, Seq read, Seq delivered);
  void write_row_counters(Channel& ch);
  std::string generate_id();
  bool too_big(const proto::JsonObject& metadata) const {
    return metadata.json.size() > config_.max_metadata_bytes;
  }

  const Config& config_;
  Db& db_;
  std::unordered_map<std::string, std::unique_ptr<Channel>> channels_;
  std::unordered_map<std::int64_t, Channel*> by_id_;
  std::vector<Undo> undo_;  // one per channel touched by the batch
  std::uint64_t epoch_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace chatsdk::server::store
