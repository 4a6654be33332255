// The background WAL checkpointer: it copies the WAL back while a writer keeps
// committing, and the WAL starts over instead of growing without bound.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdint>

#include <filesystem>
#include <string>

#include "server/store/checkpointer.hpp"
#include "server/store/sqlite_db.hpp"

namespace chatsdk::server::store::test {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path =
      fs::temp_directory_path() / ("chatsdk-ckpt-" + std::to_string(::getpid()) + "-" +
                                   std::to_string(reinterpret_cast<std::uintptr_t>(this)));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// Commits `n` transactions of one 1 KiB row each: every commit appends frames.
void commit_rows(Db& db, int n, int& next_id) {
  for (int i = 0; i < n; ++i) {
    const std::string sql =
        "INSERT INTO t VALUES (" + std::to_string(next_id++) + ", randomblob(1024))";
    REQUIRE(db.exec(sql.c_str()));
  }
}

TEST_CASE("checkpointer: a busy writer's WAL is copied back and starts over") {
  TempDir dir;
  const std::string path = (dir.path / "c.db").string();
  Db writer;
  REQUIRE(writer.open(path, false));
  REQUIRE(writer.exec("PRAGMA journal_mode = WAL"));
  REQUIRE(writer.exec("PRAGMA synchronous = NORMAL"));
  REQUIRE(writer.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)"));
  writer.set_fine_busy_timeout(5000);

  Checkpointer ckpt(/*threshold_frames=*/50, /*hard_limit_frames=*/100000);
  REQUIRE(ckpt.start(path));
  ckpt.attach(writer);

  int next_id = 1;
  // ~4,000 frames: many times the threshold. Without checkpoints the WAL
  // would hold every one of them (~16 MiB).
  for (int round = 0; round < 40 && ckpt.completed() < 3; ++round) {
    commit_rows(writer, 100, next_id);
  }
  CHECK(ckpt.completed() >= 1);
  CHECK_FALSE(ckpt.writer_must_checkpoint());
  ckpt.stop();
  // Before each RESTART, at least two PASSIVE passes, each followed by a
  // flush of the database and of the WAL (so the RESTART, which blocks the
  // writer, has little left to sync).
  CHECK(ckpt.files_flushed() >= 4 * ckpt.completed());

  // The WAL restarted: its file is far smaller than everything written.
  const auto wal_bytes = fs::file_size(path + "-wal");
  INFO("wal bytes: " << wal_bytes);
  CHECK(wal_bytes < 4000u * 1024u);

  // And nothing was lost: every row is in the database.
  Db reader;
  REQUIRE(reader.open(path, true));
  Query q(reader, "SELECT count(*) FROM t");
  REQUIRE(q.step());
  CHECK(q.i64(0) == next_id - 1);
}

TEST_CASE("checkpointer: below the threshold nothing is checkpointed") {
  TempDir dir;
  const std::string path = (dir.path / "c.db").string();
  Db writer;
  REQUIRE(writer.open(path, false));
  REQUIRE(writer.exec("PRAGMA journal_mode = WAL"));
  REQUIRE(writer.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)"));
  Checkpointer ckpt(100000, 200000);
  REQUIRE(ckpt.start(path));
  ckpt.attach(writer);
  int next_id = 1;
  commit_rows(writer, 50, next_id);
  ckpt.stop();
  CHECK(ckpt.completed() == 0);
  CHECK(fs::file_size(path + "-wal") > 50u * 1024u);
}

}  // namespace
}  // namespace chatsdk::server::store::test
