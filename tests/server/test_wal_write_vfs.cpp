// The WAL write-coalescing VFS shim (server/store/wal_write_vfs.hpp) on real
// SQLite files: one write() per transaction, the same bytes on disk, visible
// to connections on the default VFS, rollbacks and big transactions intact.
#include <stdlib.h>

#include <filesystem>
#include <string>

#include <doctest/doctest.h>

#include "server/store/sqlite_db.hpp"
#include "server/store/wal_write_vfs.hpp"
#include "test_store_fixture.hpp"

namespace chatsdk::server::store {
namespace {

struct TempDb {
  std::string dir;
  std::string path;
  TempDb() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "chatsdk-walvfs-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    path = dir + "/t.db";
  }
  ~TempDb() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  TempDb(const TempDb&) = delete;
  TempDb& operator=(const TempDb&) = delete;
};

/// Opens `path` in WAL mode through the shim, as the store's writer does.
void open_wal_writer(Db& db, const std::string& path) {
  const char* vfs = wal_write_vfs_name();
  REQUIRE(vfs != nullptr);
  REQUIRE(db.open(path, false, vfs));
  REQUIRE(db.exec("PRAGMA journal_mode = WAL"));
  REQUIRE(db.exec("PRAGMA synchronous = NORMAL"));
}

TEST_CASE("wal vfs: a transaction's frames go out in one write, readable everywhere") {
  TempDb t;
  Db writer;
  open_wal_writer(writer, t.path);
  REQUIRE(writer.exec("CREATE TABLE m (k INTEGER PRIMARY KEY, v TEXT)"));

  auto& stats = wal_write_stats();
  const auto writes0 = stats.writes.load();
  const auto flushes0 = stats.flushes.load();
  constexpr int kTransactions = 20;
  for (int t_i = 0; t_i < kTransactions; ++t_i) {
    REQUIRE(writer.exec("BEGIN IMMEDIATE"));
    for (int i = 0; i < 50; ++i) {
      const std::string value(300, static_cast<char>('a' + i % 26));
      Query q(writer, "INSERT INTO m (v) VALUES (?1)");
      q.bind(1, value);  // bound without a copy: must outlive the step
      REQUIRE(q.run());
    }
    REQUIRE(writer.exec("COMMIT"));
  }
  const auto writes = stats.writes.load() - writes0;
  const auto flushes = stats.flushes.load() - flushes0;
  // Each commit wrote several pages (two calls each); the shim made one.
  CHECK(writes >= 4 * kTransactions);
  CHECK(flushes == kTransactions);

  // Another connection on the default VFS sees every committed row, while
  // the writer is still open (it reads the frames from the WAL file).
  Db reader;
  REQUIRE(reader.open(t.path, true));
  CHECK(test::query_i64(reader, "SELECT count(*) FROM m") == 50 * kTransactions);
  reader.close();
  writer.close();
  // ...and after the writer closed (checkpointed), from the database file.
  REQUIRE(reader.open(t.path, true));
  CHECK(test::query_i64(reader, "SELECT count(*) FROM m") == 50 * kTransactions);
  CHECK(test::query_i64(reader, "SELECT count(*) FROM m WHERE length(v) = 300") ==
        50 * kTransactions);
}

TEST_CASE("wal vfs: rollbacks, big transactions and reads inside a transaction") {
  TempDb t;
  Db writer;
  open_wal_writer(writer, t.path);
  REQUIRE(writer.exec("PRAGMA cache_size = 50"));  // small: big transactions spill frames early
  REQUIRE(writer.exec("CREATE TABLE m (k INTEGER PRIMARY KEY, v BLOB)"));

  // A transaction much larger than the page cache: pages spill to the WAL
  // before the commit, and are read back inside the transaction.
  REQUIRE(writer.exec("BEGIN IMMEDIATE"));
  for (int i = 0; i < 400; ++i) {
    Query q(writer, "INSERT INTO m (v) VALUES (zeroblob(8000))");
    REQUIRE_MESSAGE(q.run(), writer.error());
  }
  CHECK(test::query_i64(writer, "SELECT count(*) FROM m") == 400);
  REQUIRE(writer.exec("COMMIT"));

  // A rolled-back transaction leaves nothing, and the next one commits.
  REQUIRE(writer.exec("BEGIN IMMEDIATE"));
  for (int i = 0; i < 400; ++i) {
    Query q(writer, "INSERT INTO m (v) VALUES (zeroblob(8000))");
    REQUIRE_MESSAGE(q.run(), writer.error());
  }
  REQUIRE(writer.exec("ROLLBACK"));
  REQUIRE(writer.exec("INSERT INTO m (v) VALUES (x'01')"));

  Db reader;
  REQUIRE(reader.open(t.path, true));
  CHECK(test::query_i64(reader, "SELECT count(*) FROM m") == 401);
  CHECK(test::query_i64(reader, "SELECT count(*) FROM m WHERE length(v) = 8000") == 400);
  reader.close();
  REQUIRE(writer.exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  Query check(writer, "PRAGMA integrity_check");
  REQUIRE(check.step());
  CHECK(check.str(0) == "ok");
}

}  // namespace
}  // namespace chatsdk::server::store
