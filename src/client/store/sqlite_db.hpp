// Thin RAII layer over sqlite3: one connection, cached prepared statements.
//
// Why cached statements are reset after every use: prepare_suspend() must
// leave no statement active (an active read statement holds a WAL read lock,
// and iOS kills apps that hold file locks while suspended).
// Not thread-safe: owned by the loop thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "chatsdk/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace chatsdk::client {

class Db;

/// A cached statement in use; resets and clears bindings when destroyed.
class Stmt {
 public:
  Stmt(Db& db, sqlite3_stmt* s) : db_(&db), s_(s) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
  ~Stmt();

  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, std::uint32_t v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, bool v) { return bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  Stmt& bind(int i, std::string_view v);
  Stmt& bind_null(int i);

  /// Steps once: true when a row is available, false when done (or on error,
  /// which is recorded in Db::last_error()).
  bool step();
  /// Runs to completion; false on error.
  bool exec();

  std::int64_t i64(int col) const;
  std::uint64_t u64(int col) const { return static_cast<std::uint64_t>(i64(col)); }
  std::uint32_t u32(int col) const { return static_cast<std::uint32_t>(i64(col)); }
  bool b(int col) const { return i64(col) != 0; }
  std::string str(int col) const;
  bool is_null(int col) const;

 private:
  Db* db_;
  sqlite3_stmt* s_;
};

class Db {
 public:
  Db() = default;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  Result<void> open(const std::string& path);
  void close() noexcept;

  /// Executes SQL without results (may hold several statements).
  Result<void> exec(const char* sql);
  /// A cached prepared statement for `sql` (a string literal: cached by address).
  Stmt prepare(const char* sql);

  Result<void> begin();  // BEGIN IMMEDIATE: take the write lock up front
  Result<void> commit();
  void rollback() noexcept;
  bool in_transaction() const noexcept;
  /// A nested transaction inside the open one (SQL savepoints, which nest).
  Result<void> savepoint();
  Result<void> release();       // keeps the savepoint's writes in the outer transaction
  void rollback_to() noexcept;  // undoes them and ends the savepoint

  /// Resets every cached statement (releases read locks) — used before suspend.
  void reset_all() noexcept;
  /// Number of statements that are stepped but not reset (must be 0 at suspend).
  int active_statements() const noexcept;

  std::int64_t last_insert_rowid() const noexcept;
  int changes() const noexcept;
  void note_error(int rc);
  /// Runs one cached statement to completion (transaction control runs once
  /// per input: not re-parsed every time).
  Result<void> run(const char* sql);
  const Error& last_error() const { return last_error_; }
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::map<const char*, sqlite3_stmt*> cache_;
  Error last_error_{Errc::ok, {}};
};

}  // namespace chatsdk::client
