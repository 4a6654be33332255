#include "client/store/sqlite_db.hpp"

#include <sqlite3.h>

namespace chatsdk::client {

Stmt::~Stmt() {
  if (s_ != nullptr) {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  if (s_ != nullptr) sqlite3_bind_int64(s_, i, v);
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view v) {
  if (s_ != nullptr) sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  if (s_ != nullptr) sqlite3_bind_null(s_, i);
  return *this;
}

bool Stmt::step() {
  if (s_ == nullptr) return false;
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) db_->note_error(rc);
  return false;
}

bool Stmt::exec() {
  if (s_ == nullptr) return false;
  int rc = sqlite3_step(s_);
  while (rc == SQLITE_ROW)
    rc = sqlite3_step(s_);
  if (rc != SQLITE_DONE) {
    db_->note_error(rc);
    return false;
  }
  return true;
}

std::int64_t Stmt::i64(int col) const {
  return sqlite3_column_int64(s_, col);
}

std::string Stmt::str(int col) const {
  const auto* p = sqlite3_column_text(s_, col);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<std::size_t>(sqlite3_column_bytes(s_, col)));
}

bool Stmt::is_null(int col) const {
  return sqlite3_column_type(s_, col) == SQLITE_NULL;
}

Db::~Db() {
  close();
}

void Db::close() noexcept {
  for (auto& [sql, s] : cache_)
    sqlite3_finalize(s);
  cache_.clear();
  if (db_ != nullptr) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
}

Result<void> Db::open(const std::string& path) {
  close();
  int rc =
      sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    close();
    return Error{Errc::io_error, "sqlite open " + path + ": " + msg};
  }
  sqlite3_busy_timeout(db_, 2000);
  return {};
}

Result<void> Db::exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    note_error(rc);
    return Error{Errc::io_error, msg};
  }
  return {};
}

Stmt Db::prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Stmt(*this, it->second);
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) {
    note_error(rc);
    return Stmt(*this, nullptr);
  }
  cache_.emplace(sql, s);
  return Stmt(*this, s);
}

Result<void> Db::run(const char* sql) {
  if (db_ == nullptr) return Error{Errc::io_error, "database is closed"};
  auto s = prepare(sql);
  if (!s.exec()) return last_error_;
  return {};
}

Result<void> Db::begin() {
  return run("BEGIN IMMEDIATE");
}
Result<void> Db::commit() {
  return run("COMMIT");
}
void Db::rollback() noexcept {
  if (in_transaction()) (void)run("ROLLBACK");
}
Result<void> Db::savepoint() {
  return run("SAVEPOINT nested");
}
Result<void> Db::release() {
  return run("RELEASE nested");
}
void Db::rollback_to() noexcept {
  // ROLLBACK TO keeps the savepoint open; RELEASE ends it (its writes are gone).
  if (run("ROLLBACK TO nested")) (void)run("RELEASE nested");
}
bool Db::in_transaction() const noexcept {
  return db_ != nullptr && sqlite3_get_autocommit(db_) == 0;
}

void Db::reset_all() noexcept {
  for (auto& [sql, s] : cache_)
    sqlite3_reset(s);
}

int Db::active_statements() const noexcept {
  int n = 0;
  for (sqlite3_stmt* s = sqlite3_next_stmt(db_, nullptr); s != nullptr;
       s = sqlite3_next_stmt(db_, s))
    if (sqlite3_stmt_busy(s) != 0) ++n;
  return n;
}

std::int64_t Db::last_insert_rowid() const noexcept {
  return sqlite3_last_insert_rowid(db_);
}
int Db::changes() const noexcept {
  return sqlite3_changes(db_);
}

void Db::note_error(int rc) {
  last_error_ = Error{Errc::io_error, std::string("sqlite: ") + sqlite3_errstr(rc) + ": " +
                                          (db_ != nullptr ? sqlite3_errmsg(db_) : "")};
}

}  // namespace chatsdk::client
