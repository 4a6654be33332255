#include "server/store/schema.hpp"

#include <array>
#include <string>

#include "server/log.hpp"

namespace chatsdk::server::store {
namespace {

// Why `messages` is a rowid table and not WITHOUT ROWID (measured on this
// machine, notes/deps-evaluation.md section 2): clustering by (channel, seq)
// makes "newest 50 of a channel" ~5x faster (11 µs vs 59 µs), but group-commit
// inserts round-robin over many channels fall from ~150k/s to ~40k/s because
// every insert dirties a different full-row leaf page. Ingest is this server's
// bottleneck (target >= 50k durable messages/s); 59 µs per history page is not.
// So rows append to the rowid b-tree and the per-channel keys live in narrow
// indexes (measured again with this schema: WITHOUT ROWID cost 40% more CPU
// per send and twice the WAL bytes).
//
// messages_by_version is PARTIAL: a message that never changed after its send
// has version == created_version, and sync finds those through
// messages_by_seq (created_version grows with seq). Only edited / deleted /
// reacted / replied-to messages enter the index, so a send writes three index
// entries, not four (~25% less writer CPU per send). Small, point-read tables keyed by text
// (members, cursors, users, reactions, mentions, op_dedupe) are WITHOUT ROWID: their primary key is
// the only access path, so a separate rowid would just be a second b-tree.
constexpr const char* kV1 = R"sql(
CREATE TABLE channels (
  id          INTEGER PRIMARY KEY,
  cid         TEXT    NOT NULL UNIQUE,
  kind        INTEGER NOT NULL,
  name        TEXT    NOT NULL DEFAULT '',
  public      INTEGER NOT NULL DEFAULT 0,
  created_by  TEXT    NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL DEFAULT 0,
  metadata    TEXT    NOT NULL DEFAULT '',
  last_seq    INTEGER NOT NULL DEFAULT 0,
  version     INTEGER NOT NULL DEFAULT 0,
  member_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE members (
  channel   INTEGER NOT NULL,
  user      TEXT    NOT NULL,
  role      INTEGER NOT NULL DEFAULT 0,
  version   INTEGER NOT NULL,
  removed   INTEGER NOT NULL DEFAULT 0,
  joined_at INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (channel, user)
) WITHOUT ROWID;
CREATE INDEX members_by_version ON members (channel, version);
CREATE TABLE messages (
  channel     INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  version     INTEGER NOT NULL,
  created_version INTEGER NOT NULL,  -- version of the send itself
  sender      TEXT    NOT NULL,
  client_id   TEXT,
  body        TEXT    NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  edited_at   INTEGER NOT NULL DEFAULT 0,
  deleted     INTEGER NOT NULL DEFAULT 0,
  reply_to    INTEGER NOT NULL DEFAULT 0,
  reply_count INTEGER NOT NULL DEFAULT 0,
  metadata    TEXT    NOT NULL DEFAULT '',
  reactions   TEXT    NOT NULL DEFAULT '',
  mentions    TEXT    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX messages_by_seq ON messages (channel, seq);
CREATE INDEX messages_by_version ON messages (channel, version)
  WHERE version <> created_version;
CREATE UNIQUE INDEX messages_by_client_id ON messages (sender, client_id);
CREATE TABLE reactions (
  channel INTEGER NOT NULL,
  seq     INTEGER NOT NULL,
  emoji   TEXT    NOT NULL,
  user    TEXT    NOT NULL,
  PRIMARY KEY (channel, seq, emoji, user)
) WITHOUT ROWID;
CREATE TABLE cursors (
  user          TEXT    NOT NULL,
  channel       INTEGER NOT NULL,
  read_seq      INTEGER NOT NULL DEFAULT 0,
  delivered_seq INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user, channel)
) WITHOUT ROWID;
CREATE TABLE users (
  id           TEXT PRIMARY KEY,
  display_name TEXT    NOT NULL DEFAULT '',
  avatar_url   TEXT    NOT NULL DEFAULT '',
  metadata     TEXT    NOT NULL DEFAULT '',
  updated_at   INTEGER NOT NULL DEFAULT 0,
  last_seen    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE op_dedupe (
  user      TEXT    NOT NULL,
  client_id TEXT    NOT NULL,
  kind      INTEGER NOT NULL,
  channel   TEXT    NOT NULL,
  seq       INTEGER NOT NULL DEFAULT 0,
  version   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user, client_id)
) WITHOUT ROWID;
)sql";

// v2: mention counts without scanning message rows (backfilled from the
// messages.mentions JSON arrays v1 already stored), channel info change
// tracking for sync, and "my channels" lookups by user.
constexpr const char* kV2 = R"sql(
CREATE TABLE mentions (
  user    TEXT    NOT NULL,
  channel INTEGER NOT NULL,
  seq     INTEGER NOT NULL,
  PRIMARY KEY (user, channel, seq)
) WITHOUT ROWID;
INSERT OR IGNORE INTO mentions (user, channel, seq)
  SELECT j.value, m.channel, m.seq FROM messages AS m, json_each(m.mentions) AS j
  WHERE m.deleted = 0 AND m.mentions <> '';
ALTER TABLE channels ADD COLUMN info_version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX members_by_user ON members (user, channel) WHERE removed = 0;
)sql";

// v3: the dedupe index leads with client_id. Client ids from the SDK are
// ULIDs, which grow with time, so new entries land on the index's last pages
// instead of on a random page per sender: one dirty page per commit instead
// of about one per message (WAL and checkpoint bytes, docs/benchmarks.md).
// Uniqueness and the (sender, client_id) lookup are unchanged.
constexpr const char* kV3 = R"sql(
DROP INDEX messages_by_client_id;
CREATE UNIQUE INDEX messages_by_client_id ON messages (client_id, sender);
)sql";

// v4: the same for the other ops' dedupe table (edits, deletes, reactions,
// channel and member changes): its key leads with the client id. A WITHOUT
// ROWID table cannot change its key in place, so it is copied.
constexpr const char* kV4 = R"sql(
CREATE TABLE op_dedupe_v4 (
  user      TEXT    NOT NULL,
  client_id TEXT    NOT NULL,
  kind      INTEGER NOT NULL,
  channel   TEXT    NOT NULL,
  seq       INTEGER NOT NULL DEFAULT 0,
  version   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (client_id, user)
) WITHOUT ROWID;
INSERT INTO op_dedupe_v4 (user, client_id, kind, channel, seq, version)
  SELECT user, client_id, kind, channel, seq, version FROM op_dedupe;
DROP TABLE op_dedupe;
ALTER TABLE op_dedupe_v4 RENAME TO op_dedupe;
)sql";

constexpr std::array<const char*, 4> kMigrations{kV1, kV2, kV3, kV4};

}  // namespace

std::size_t schema_version() {
  return kMigrations.size();
}

Result<void> migrate(Db& db, std::size_t target) {
  if (target == 0 || target > kMigrations.size()) target = kMigrations.size();
  std::size_t current = 0;
  {
    Query q(db, "PRAGMA user_version");
    if (q.step()) current = static_cast<std::size_t>(q.u64(0));
  }
  if (db.failed()) return Error{Errc::io_error, db.error()};
  if (current > kMigrations.size()) {
    return Error{Errc::io_error, "database schema version " + std::to_string(current) +
                                     " is newer than this server (" +
                                     std::to_string(kMigrations.size()) + ")"};
  }
  if (current != 0 && current < target) {
    // Rebuilding an index of a big database takes a while: say why start is slow.
    log::info("schema_migrate", {{"from", current}, {"to", target}});
  }
  for (std::size_t v = current; v < target; ++v) {
    const std::string bump = "PRAGMA user_version = " + std::to_string(v + 1);
    if (!db.exec("BEGIN IMMEDIATE") || !db.exec(kMigrations[v]) || !db.exec(bump.c_str()) ||
        !db.exec("COMMIT")) {
      Error e{Errc::io_error, "migration to version " + std::to_string(v + 1) + ": " + db.error()};
      db.clear_error();
      if (db.in_transaction()) db.exec("ROLLBACK");
      db.clear_error();
      return e;
    }
  }
  return {};
}

}  // namespace chatsdk::server::store
