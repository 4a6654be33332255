// Background WAL checkpoints for the server store.
//
// SQLite's automatic checkpoint runs inside the commit that crosses the
// threshold, on the committing connection: the store's writer thread. With a
// 40 MiB threshold that commit took 50-100 ms (copying pages back into the
// database file and, under synchronous=NORMAL, two fsyncs), and every send
// queued behind it waited: at 20k msgs/s it was the whole ack p99.
//
// The Checkpointer moves that work to a thread and connection of its own. The
// writer's WAL hook reports the WAL length after each commit; past
// `threshold_frames` the checkpointer runs PASSIVE passes, which never block
// the writer (WAL lets one writer and one checkpointer run at once), each
// followed by an fdatasync of both files from this thread, until what the
// writer appended meanwhile is small; then one RESTART, which blocks the
// writer only while it copies that residue and syncs what little is left
// unsynced, and makes the next transaction start the WAL over. If
// checkpoints keep failing (WAL past `hard_limit_frames`), the writer runs a
// blocking checkpoint itself: bounded size over latency.
//
// Threading: the WAL hook (on_wal_commit) runs on the writer thread;
// start()/stop() on the owner's.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "chatsdk/result.hpp"
#include "server/store/sqlite_db.hpp"

namespace chatsdk::server::store {

class Checkpointer {
 public:
  /// `completed_counter`, when given, is also incremented per completed
  /// checkpoint (the server's metrics).
  Checkpointer(std::uint32_t threshold_frames, std::uint32_t hard_limit_frames,
               std::atomic<std::uint64_t>* completed_counter = nullptr)
      : threshold_(threshold_frames),
        hard_limit_(hard_limit_frames),
        completed_counter_(completed_counter) {}
  ~Checkpointer() { stop(); }
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  /// Opens its own connection to `path` and starts the thread.
  [[nodiscard]] Result<void> start(const std::string& path);
  /// Finishes a running checkpoint and joins the thread.
  void stop();

  /// Installs the WAL hook on the writer's connection (replaces SQLite's
  /// automatic checkpoint on it).
  void attach(Db& writer_db);
  /// True when the WAL outgrew the hard limit: the writer should checkpoint.
  bool writer_must_checkpoint() const {
    return wal_frames_.load(std::memory_order_relaxed) >= hard_limit_;
  }
  /// Checkpoints completed in the background (tests and logs).
  std::uint64_t completed() const { return completed_.load(std::memory_order_relaxed); }
  /// Files (database or WAL) flushed to disk between passes (tests).
  std::uint64_t files_flushed() const { return files_flushed_.load(std::memory_order_relaxed); }

 private:
  static int on_wal_commit(void* self, sqlite3* db, const char* schema, int frames);
  void run();
  bool cycle();
  bool checkpoint(int mode, int& log_frames, int& backfilled);

  std::string path_;  // the database file; its WAL is path_ + "-wal"
  const std::uint32_t threshold_;
  const std::uint32_t hard_limit_;
  std::atomic<std::uint64_t>* const completed_counter_;
  Db db_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = false;
  bool stop_ = false;
  std::thread thread_;
  std::atomic<std::uint32_t> wal_frames_{0};
  std::atomic<std::uint64_t> completed_{0};
  std::atomic<std::uint64_t> files_flushed_{0};
};

}  // namespace chatsdk::server::store
