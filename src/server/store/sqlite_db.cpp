#include "server/store/sqlite_db.hpp"

#include <chrono>
#include <thread>

namespace chatsdk::server::store {

Db::~Db() {
  close();
}

Result<void> Db::open(const std::string& path, bool read_only, const char* vfs) {
  close();
  const int flags =
      (read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) |
      SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, vfs);
  if (rc != SQLITE_OK) {
    std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    return Error{Errc::io_error, "sqlite open " + path + ": " + msg};
  }
  sqlite3_extended_result_codes(db_, 1);
  return {};
}

void Db::set_fine_busy_timeout(int timeout_ms) {
  busy_timeout_ms_ = timeout_ms;
  sqlite3_busy_handler(
      db_,
      [](void* self, int tries) -> int {
        constexpr int kSleepUs = 100;
        const auto* db = static_cast<const Db*>(self);
        if (static_cast<long>(tries) * kSleepUs >= long{db->busy_timeout_ms_} * 1000) return 0;
        std::this_thread::sleep_for(std::chrono::microseconds(kSleepUs));
        return 1;
      },
      this);
}

void Db::close() noexcept {
  for (auto& [sql, st] : stmts_)
    sqlite3_finalize(st);
  stmts_.clear();
  if (db_ != nullptr) {
    sqlite3_close(db_);
    db_ = nullptr;
  }
}

void Db::record(int rc, const char* what) {
  if (rc_ != SQLITE_OK) return;  // keep the first failure: it is the cause
  rc_ = rc;
  msg_ = std::string(what) + ": " + (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
}

bool Db::exec(const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    if (rc_ == SQLITE_OK) {
      rc_ = rc;
      msg_ = std::string(sql).substr(0, 60) + ": " + (err != nullptr ? err : sqlite3_errstr(rc));
    }
    sqlite3_free(err);
    return false;
  }
  return true;
}

bool Db::run_cached(const char* sql) {
  Query q(*this, sql);
  if (failed()) return false;  // failed to prepare
  return q.run();
}

sqlite3_stmt* Db::cached(const char* sql) {
  auto it = stmts_.find(sql);
  if (it != stmts_.end()) return it->second;
  sqlite3_stmt* st = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr);
  if (rc != SQLITE_OK) {
    record(rc, "prepare");
    return nullptr;
  }
  stmts_.emplace(sql, st);
  return st;
}

bool Query::step() {
  if (st_ == nullptr || db_.failed()) return false;
  const int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) db_.record(rc, sqlite3_sql(st_));
  return false;
}

bool Query::run() {
  while (step()) {
  }
  return !db_.failed();
}

}  // namespace chatsdk::server::store
