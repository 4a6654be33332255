// Versioned schema migrations. Rules: a migration only adds (tables, columns,
// indexes) or transforms in place; none ever drops or rewrites outbox rows.
// Each runs in its own transaction together with the user_version bump.
#include <array>

#include "client/store/store.hpp"

namespace chatsdk::client {
namespace {

constexpr std::array<const char*, 3> kMigrations{
    // v1: initial schema
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE channels(
  id TEXT PRIMARY KEY, kind INTEGER NOT NULL, name TEXT NOT NULL DEFAULT '',
  is_public INTEGER NOT NULL DEFAULT 0, created_by TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL DEFAULT 0, member_count INTEGER NOT NULL DEFAULT 0,
  role INTEGER NOT NULL DEFAULT 0, metadata TEXT NOT NULL DEFAULT '',
  last_seq INTEGER NOT NULL DEFAULT 0, read_seq INTEGER NOT NULL DEFAULT 0,
  delivered_seq INTEGER NOT NULL DEFAULT 0, unread INTEGER NOT NULL DEFAULT 0,
  mentions INTEGER NOT NULL DEFAULT 0, last_activity INTEGER NOT NULL DEFAULT 0,
  cursor INTEGER NOT NULL DEFAULT 0);
CREATE TABLE messages(
  channel TEXT NOT NULL, seq INTEGER NOT NULL, version INTEGER NOT NULL,
  sender TEXT NOT NULL, client_id TEXT NOT NULL DEFAULT '', body TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL DEFAULT 0, edited_at INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0, reply_to INTEGER NOT NULL DEFAULT 0,
  reply_count INTEGER NOT NULL DEFAULT 0, reactions TEXT NOT NULL DEFAULT '',
  mentions TEXT NOT NULL DEFAULT '', metadata TEXT NOT NULL DEFAULT '',
  mentions_me INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(channel, seq)) WITHOUT ROWID;
CREATE TABLE gaps(channel TEXT NOT NULL, from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL,
  PRIMARY KEY(channel, from_seq));
CREATE TABLE members(channel TEXT NOT NULL, user TEXT NOT NULL, role INTEGER NOT NULL DEFAULT 0,
  read_seq INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(channel, user)) WITHOUT ROWID;
CREATE TABLE profiles(user TEXT PRIMARY KEY, display_name TEXT NOT NULL DEFAULT '',
  avatar_url TEXT NOT NULL DEFAULT '', metadata TEXT NOT NULL DEFAULT '');
CREATE TABLE outbox(
  id INTEGER PRIMARY KEY AUTOINCREMENT, kind INTEGER NOT NULL, state INTEGER NOT NULL,
  channel TEXT NOT NULL DEFAULT '', client_id TEXT NOT NULL UNIQUE, seq INTEGER NOT NULL DEFAULT 0,
  fail_code INTEGER NOT NULL DEFAULT 0, fail_retryable INTEGER NOT NULL DEFAULT 0,
  fail_reason TEXT, created_at INTEGER NOT NULL DEFAULT 0,
  body TEXT NOT NULL DEFAULT '', reply_to INTEGER NOT NULL DEFAULT 0,
  mentions TEXT NOT NULL DEFAULT '', metadata TEXT NOT NULL DEFAULT '',
  emoji TEXT NOT NULL DEFAULT '', users TEXT NOT NULL DEFAULT '',
  target_client_id TEXT NOT NULL DEFAULT '', create_kind INTEGER NOT NULL DEFAULT 1,
  name TEXT NOT NULL DEFAULT '', has_name INTEGER NOT NULL DEFAULT 0,
  avatar_url TEXT NOT NULL DEFAULT '', has_avatar INTEGER NOT NULL DEFAULT 0,
  is_public INTEGER NOT NULL DEFAULT 0, lane TEXT NOT NULL DEFAULT '');
)sql",
    // v2: retry bookkeeping on ops, the assigned version, and an index for
    // eviction (oldest first) — added in place, outbox rows untouched.
    R"sql(
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_by_time ON messages(created_at);
CREATE INDEX messages_by_client_id ON messages(channel, client_id);
)sql",
    // v3: channel_update's tri-state fields and member_role's role — added in
    // place, outbox rows untouched (older kinds keep the defaults).
    R"sql(
ALTER TABLE outbox ADD COLUMN has_public INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN has_metadata INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN role INTEGER NOT NULL DEFAULT 0;
)sql",
};

}  // namespace

int Store::latest_schema() {
  return static_cast<int>(kMigrations.size());
}

int Store::schema_version() {
  auto s = db_.prepare("PRAGMA user_version");
  return s.step() ? static_cast<int>(s.i64(0)) : 0;
}

Result<void> Store::migrate(int max_schema) {
  int target = max_schema > 0 ? max_schema : latest_schema();
  int current = schema_version();
  if (current > latest_schema())
    return Error{Errc::invalid_state, "database schema is newer than this library"};
  for (int v = current; v < target; ++v) {
    if (auto r = db_.begin(); !r) return r;
    auto r = db_.exec(kMigrations[static_cast<std::size_t>(v)]);
    if (r) r = db_.exec(("PRAGMA user_version = " + std::to_string(v + 1)).c_str());
    if (!r) {
      db_.rollback();
      return Error{Errc::io_error,
                   "migration to v" + std::to_string(v + 1) + ": " + r.error().message};
    }
    if (auto c = db_.commit(); !c) return c;
  }
  return {};
}

}  // namespace chatsdk::client
