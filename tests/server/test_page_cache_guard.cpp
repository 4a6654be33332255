// The page cache guard (server/store/page_cache_guard.hpp) on real SQLite
// files: commits after page splits no longer truncate (scan) the cache, a
// rollback that grew the file still does, and the data stays intact.
#include <sqlite3.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "server/store/page_cache_guard.hpp"
#include "server/store/sqlite_db.hpp"
#include "test_store_fixture.hpp"

namespace chatsdk::server::store {
namespace {

/// SQLite takes a page cache only before it initialises. Every connection
/// of earlier tests is closed, so it can be shut down and set up again here.
void require_guard_installed() {
  REQUIRE(sqlite3_shutdown() == SQLITE_OK);
  REQUIRE(install_page_cache_guard());
  REQUIRE(sqlite3_initialize() == SQLITE_OK);
}

/// A fresh database file with the guard installed, set up like the store's
/// writer connection.
struct GuardedDb {
  test::TempDir dir;
  Db db;
  GuardedDb();
};

void open_writer(Db& db, const std::string& path) {
  REQUIRE(db.open(path, false));
  REQUIRE(db.exec("PRAGMA journal_mode = WAL"));
  REQUIRE(db.exec("PRAGMA synchronous = NORMAL"));
  REQUIRE(db.exec("PRAGMA cache_size = -65536"));
  // Like messages_by_seq: random channels make index pages split all over.
  REQUIRE(db.exec("CREATE TABLE m (ch INTEGER, seq INTEGER, body TEXT)"));
  REQUIRE(db.exec("CREATE UNIQUE INDEX m_by_seq ON m (ch, seq)"));
}

GuardedDb::GuardedDb() {
  require_guard_installed();
  open_writer(db, dir.path + "/t.db");
}

/// Inserts `per_txn` rows into random channels per transaction; returns the
/// rows inserted. `commit` false rolls every transaction back.
std::int64_t insert_batches(Db& db, std::vector<std::int64_t>& seqs, int transactions, int per_txn,
                            std::size_t body_bytes, bool commit) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::size_t> pick(0, seqs.size() - 1);
  const std::string body(body_bytes, 'b');
  std::int64_t rows = 0;
  for (int t = 0; t < transactions; ++t) {
    REQUIRE(db.exec("BEGIN IMMEDIATE"));
    std::vector<std::int64_t> undo = seqs;
    for (int i = 0; i < per_txn; ++i) {
      const std::size_t ch = pick(rng);
      Query q(db, "INSERT INTO m (ch, seq, body) VALUES (?1, ?2, ?3)");
      q.bind(1, static_cast<std::int64_t>(ch));
      q.bind(2, ++seqs[ch]);
      q.bind(3, body);
      REQUIRE_MESSAGE(q.run(), db.error());
      ++rows;
    }
    REQUIRE(db.exec(commit ? "COMMIT" : "ROLLBACK"));
    if (!commit) seqs = undo;
  }
  return commit ? rows : 0;
}

std::string integrity(Db& db) {
  Query q(db, "PRAGMA integrity_check");
  REQUIRE(q.step());
  return std::string(q.text(0));
}

TEST_CASE("page cache guard: commits after page splits skip the cache scan, data intact") {
  GuardedDb g;
  Db& db = g.db;
  std::vector<std::int64_t> seqs(1000, 0);

  auto& stats = page_cache_guard_stats();
  const auto skipped0 = stats.truncates_skipped.load();
  const auto forwarded0 = stats.truncates_forwarded.load();
  const std::int64_t rows = insert_batches(db, seqs, 1500, 16, 60, true);
  const auto skipped = stats.truncates_skipped.load() - skipped0;
  const auto forwarded = stats.truncates_forwarded.load() - forwarded0;

  // Every transaction ends with a truncation to the database size. Without
  // the guard each one after a reordering split scanned the whole cache;
  // with it nearly all are skipped (none of them could drop a page).
  CHECK(skipped + forwarded >= 1500);
  CHECK(skipped >= 1400);
  CHECK(integrity(db) == "ok");
  CHECK(test::query_i64(db, "SELECT count(*) FROM m") == rows);
  CHECK(test::query_i64(db, "SELECT count(*) FROM m WHERE length(body) = 60") == rows);
}

TEST_CASE("page cache guard: a rollback that grew the file still drops the pages past its end") {
  GuardedDb g;
  Db& db = g.db;
  std::vector<std::int64_t> seqs(200, 0);
  const std::int64_t kept = insert_batches(db, seqs, 20, 16, 100, true);
  const std::int64_t pages = test::query_i64(db, "PRAGMA page_count");

  auto& stats = page_cache_guard_stats();
  const auto forwarded0 = stats.truncates_forwarded.load();
  // Large rows: the rolled-back transaction allocates many pages past the end.
  insert_batches(db, seqs, 1, 400, 2000, false);
  CHECK(stats.truncates_forwarded.load() - forwarded0 == 1);
  CHECK(test::query_i64(db, "PRAGMA page_count") == pages);

  // The numbers those pages had are used again, for other contents.
  const std::int64_t more = insert_batches(db, seqs, 30, 20, 1500, true);
  CHECK(test::query_i64(db, "PRAGMA page_count") > pages);
  CHECK(integrity(db) == "ok");
  CHECK(test::query_i64(db, "SELECT count(*) FROM m") == kept + more);
  CHECK(test::query_i64(db, "SELECT count(*) FROM m WHERE length(body) = 2000") == 0);

  // A second connection reads the same rows from the file and WAL.
  Db reader;
  REQUIRE(reader.open(g.dir.path + "/t.db", true));
  CHECK(test::query_i64(reader, "SELECT count(*) FROM m") == kept + more);
  CHECK(test::query_i64(reader, "SELECT sum(length(body)) FROM m") == kept * 100 + more * 1500);
}

}  // namespace
}  // namespace chatsdk::server::store
