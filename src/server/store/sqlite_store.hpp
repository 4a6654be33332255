// The SQLite Store (see store.hpp for the contract): one writer thread doing
// group commit over its own connection, one reader thread over another, both
// on <data_dir>/chat.db in WAL mode.
//
// Group commit: the writer takes every queued op (up to
// Config::group_commit_max_ops) into one transaction. While load is present
// (the previous batch held more than one op) it waits up to
// group_commit_max_delay_us for company, or until group_commit_target_ops ops
// are waiting; an idle system's lone op is committed at once. Each batch's
// results reach the loop in one LoopPoster post.
//
// Threading: public methods on the loop thread (as Store); set_max_db_bytes()
// from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/store/checkpointer.hpp"
#include "server/store/reader.hpp"
#include "server/store/sqlite_db.hpp"
#include "server/store/store.hpp"
#include "server/store/writer.hpp"

namespace chatsdk::server::store {

class SqliteStore final : public Store {
 public:
  SqliteStore(const Config& config, LoopPoster& poster, Metrics& metrics);
  /// Without close(): still commits queued writes (their results are posted;
  /// the poster must outlive the store), checkpoints and stops; no `done`.
  ~SqliteStore() override;

  [[nodiscard]] Result<void> open() override;
  [[nodiscard]] Result<StartupState> load() override;
  void write(WriteOp op, std::function<void(WriteResult)> done) override;
  void read(ReadOp op, std::function<void(ReadResult)> done) override;
  void close(std::function<void()> done) override;

  /// Changes the storage quota (Config::max_db_bytes) for the next batches;
  /// 0 = unlimited. Operators raise it after a storage_failed; tests use it
  /// to simulate a disk that fills and frees up.
  void set_max_db_bytes(std::uint64_t bytes);
  /// <data_dir>/chat.db
  const std::string& path() const { return path_; }

 private:
  struct PendingWrite {
    WriteOp op;
    std::function<void(WriteResult)> done;
  };
  struct PendingRead {
    ReadOp op;
    std::function<void(ReadResult)> done;
  };

  void writer_loop();
  void reader_loop();
  void execute(std::vector<PendingWrite>& batch);
  /// One transaction over batch[first, last); false when it rolled back.
  bool transact(std::vector<PendingWrite>& batch, std::size_t first, std::size_t last,
                std::vector<WriteResult>& results);
  void apply_quota();
  void stop_threads();

  Config config_;
  LoopPoster& poster_;
  Metrics& metrics_;
  std::string path_;

  Db wdb_;
  Db rdb_;
  Writer writer_;
  Reader reader_;
  Checkpointer checkpointer_;

  std::mutex wmu_;
  std::condition_variable wcv_;
  std::deque<PendingWrite> wq_;
  /// Queue length at which write() wakes the writer (guarded by wmu_): 1 while
  /// it sleeps idle, the target batch while it sleeps out a group-commit window.
  /// Waking it for every op made a futex wake and two context switches per
  /// message, a third of the writer's CPU at 2,000 msgs/s.
  std::size_t wake_at_ = 1;
  bool wstop_ = false;

  std::mutex rmu_;
  std::condition_variable rcv_;
  std::deque<PendingRead> rq_;
  bool rstop_ = false;

  std::thread wthread_;
  std::thread rthread_;
  bool running_ = false;
  bool closed_ = false;

  std::atomic<std::uint64_t> quota_{0};
  std::atomic<bool> quota_changed_{false};
  std::uint32_t page_size_ = 4096;
};

}  // namespace chatsdk::server::store
