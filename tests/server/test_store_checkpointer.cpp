// The background WAL checkpointer: it copies the WAL back while a writer keeps
// committing, and the WAL starts over instead of growing without bound.
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
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

/// The store writer's settings on a table of 1 KiB rows.
void open_writer(Db& writer, const std::string& path) {
  REQUIRE(writer.open(path, false));
  REQUIRE(writer.exec("PRAGMA journal_mode = WAL"));
  REQUIRE(writer.exec("PRAGMA synchronous = NORMAL"));
  REQUIRE(writer.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)"));
  writer.set_fine_busy_timeout(5000);
}

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
  open_writer(writer, path);

  std::atomic<std::uint64_t> counted{0};
  Checkpointer ckpt(/*threshold_frames=*/50, /*hard_limit_frames=*/100000, &counted);
  REQUIRE(ckpt.start(path));
  ckpt.attach(writer);

  int next_id = 1;
  // Every commit appends at least one 4 KiB frame; without checkpoints the WAL
  // would hold all of them. Commit until five checkpoint cycles completed and
  // the WAL would have grown to 40 MB: the largest size the file reaches is
  // the threshold plus what the writer appends during the slowest cycle
  // (passes, flushes, restart), 2-10 MB on the development VM.
  constexpr int kMaxCommits = 200000;
  int commits = 0;
  while ((ckpt.completed() < 5 || commits < 10000) && commits < kMaxCommits) {
    commit_rows(writer, 100, next_id);
    commits += 100;
  }
  CHECK(ckpt.completed() >= 5);
  CHECK_FALSE(ckpt.writer_must_checkpoint());
  ckpt.stop();
  CHECK(counted.load() == ckpt.completed());  // the server's metric
  // Before each RESTART, at least two PASSIVE passes, each followed by a
  // flush of the database and of the WAL (so the RESTART, which blocks the
  // writer, has little left to sync).
  CHECK(ckpt.files_flushed() >= 4 * ckpt.completed());

  // The WAL restarted: its file (which keeps the largest size it reached) is
  // far smaller than everything written.
  const auto wal_bytes = fs::file_size(path + "-wal");
  INFO("wal bytes: " << wal_bytes << ", commits: " << commits);
  CHECK(wal_bytes < static_cast<std::uintmax_t>(commits) * 4096u / 2);

  // And nothing was lost: every row is in the database.
  Db reader;
  REQUIRE(reader.open(path, true));
  Query q(reader, "SELECT count(*) FROM t");
  REQUIRE(q.step());
  CHECK(q.i64(0) == next_id - 1);
}

TEST_CASE("checkpointer: one cycle per WAL that reached the threshold, none on the next one") {
  TempDir dir;
  const std::string path = (dir.path / "c.db").string();
  Db writer;
  open_writer(writer, path);

  Checkpointer ckpt(/*threshold_frames=*/400, /*hard_limit_frames=*/100000);
  REQUIRE(ckpt.start(path));
  ckpt.attach(writer);
  // Commit one row at a time, also while the cycle runs (those commits ask
  // for a checkpoint again, of the same WAL), and stop right after the
  // cycle's RESTART: the WAL that starts over then holds a few frames.
  int next_id = 1;
  for (int i = 0; i < 200000 && ckpt.completed() == 0; ++i)
    commit_rows(writer, 1, next_id);
  REQUIRE(ckpt.completed() == 1);
  // A second cycle would start within microseconds; give it far longer.
  ::usleep(300 * 1000);
  ckpt.stop();
  CHECK(ckpt.completed() == 1);
}

TEST_CASE("checkpointer: below the threshold nothing is checkpointed") {
  TempDir dir;
  const std::string path = (dir.path / "c.db").string();
  Db writer;
  open_writer(writer, path);
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
