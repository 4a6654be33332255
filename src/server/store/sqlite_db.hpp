// Thin RAII layer over the SQLite C API for the server store: one connection
// (Db) with a cache of prepared statements, and a scoped Query that binds,
// steps and resets a cached statement.
//
// Errors are sticky instead of thrown: the first failing call records its
// result code in the Db (failed()/error()), later steps on a failed Db return
// "no row". The store's writer checks failed() after each op and rolls the
// transaction back; op code therefore never has to thread error values through
// every statement, and nothing throws across the module.
//
// Threading: a Db and its Queries belong to one thread.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "chatsdk/result.hpp"

namespace chatsdk::server::store {

class Db {
 public:
  Db() = default;
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  /// Opens (read_only: without creating) the database file, through the
  /// named VFS (nullptr: SQLite's default).
  [[nodiscard]] Result<void> open(const std::string& path, bool read_only,
                                  const char* vfs = nullptr);
  void close() noexcept;
  bool is_open() const { return db_ != nullptr; }

  /// Like `PRAGMA busy_timeout`, but retries every 100 µs instead of SQLite's
  /// back-off (1, 2, 5 … 100 ms sleeps): a lock held for a few milliseconds
  /// by the checkpointer must not cost the writer a 100 ms nap.
  void set_fine_busy_timeout(int timeout_ms);
  /// Runs one or more statements without results (pragmas, BEGIN, DDL).
  bool exec(const char* sql);
  /// Runs one statement without results from the statement cache: for the
  /// BEGIN / COMMIT of every transaction, which exec() would parse each time.
  bool run_cached(const char* sql);
  /// A statement cached by the address of its (string literal) text.
  sqlite3_stmt* cached(const char* sql);

  bool failed() const { return rc_ != SQLITE_OK; }
  int rc() const { return rc_; }
  const std::string& error() const { return msg_; }
  /// Forgets a recorded failure (after the transaction was rolled back).
  void clear_error() {
    rc_ = SQLITE_OK;
    msg_.clear();
  }
  void record(int rc, const char* what);
  bool in_transaction() const { return db_ != nullptr && sqlite3_get_autocommit(db_) == 0; }
  sqlite3* handle() const { return db_; }
  std::int64_t changes() const { return sqlite3_changes64(db_); }

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, sqlite3_stmt*> stmts_;
  int rc_ = SQLITE_OK;  // an extended result code (the connection enables them)
  std::string msg_;
  int busy_timeout_ms_ = 0;
};

/// One execution of a cached statement; resets it when it goes out of scope.
/// Text binds are SQLITE_STATIC: the bound strings must outlive the Query.
class Query {
 public:
  Query(Db& db, const char* sql) : db_(db), st_(db.cached(sql)) {}
  ~Query() {
    if (st_ != nullptr) {
      sqlite3_reset(st_);
      sqlite3_clear_bindings(st_);
    }
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int i, std::int64_t v) {
    if (st_ != nullptr) sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  Query& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
  Query& bind(int i, std::uint32_t v) { return bind(i, static_cast<std::int64_t>(v)); }
  Query& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Query& bind(int i, bool v) { return bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  Query& bind(int i, std::string_view v) {
    if (st_ != nullptr) {
      sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    }
    return *this;
  }
  Query& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Query& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  /// NULL when empty (used for optional unique keys).
  Query& bind_or_null(int i, std::string_view v) {
    if (st_ != nullptr) {
      if (v.empty()) {
        sqlite3_bind_null(st_, i);
      } else {
        bind(i, v);
      }
    }
    return *this;
  }

  /// true: a row is available. false: done, or failed (recorded in the Db).
  bool step();
  /// Steps to completion (statements without rows); false on failure.
  bool run();

  std::int64_t i64(int col) const { return sqlite3_column_int64(st_, col); }
  std::uint64_t u64(int col) const {
    const auto v = sqlite3_column_int64(st_, col);
    return v < 0 ? 0 : static_cast<std::uint64_t>(v);
  }
  std::uint32_t u32(int col) const {
    const auto v = sqlite3_column_int64(st_, col);
    return v < 0 ? 0 : static_cast<std::uint32_t>(v);
  }
  bool flag(int col) const { return sqlite3_column_int64(st_, col) != 0; }
  bool is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }
  std::string_view text(int col) const {
    const auto* p = sqlite3_column_text(st_, col);
    const int n = sqlite3_column_bytes(st_, col);
    if (p == nullptr) return {};
    return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)};
  }
  std::string str(int col) const { return std::string(text(col)); }

 private:
  Db& db_;
  sqlite3_stmt* st_;
};

}  // namespace chatsdk::server::store
