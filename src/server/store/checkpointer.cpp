#include "server/store/checkpointer.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "server/log.hpp"

namespace chatsdk::server::store {
namespace {

/// Writes a file's dirty pages to disk (any descriptor of a file flushes the
/// file). Best effort: SQLite's own syncs still follow.
bool flush_to_disk(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fdatasync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

Result<void> Checkpointer::start(const std::string& path) {
  path_ = path;
  if (auto r = db_.open(path, false); !r) return r;
  // The RESTART step waits for the writer's current transaction (a few ms);
  // bounded so that stop() is never held up long.
  db_.set_fine_busy_timeout(200);
  // A connection that has read nothing has not opened the WAL yet, and a
  // checkpoint on it silently does nothing (log and backfill counts of -1).
  if (!db_.exec("PRAGMA journal_mode = WAL")) {
    return Error{Errc::io_error, "open checkpointer: " + db_.error()};
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "store-ckpt");
    run();
  });
  return {};
}

void Checkpointer::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
  db_.close();
}

void Checkpointer::attach(Db& writer_db) {
  sqlite3_wal_hook(writer_db.handle(), &Checkpointer::on_wal_commit, this);
}

int Checkpointer::on_wal_commit(void* self, sqlite3* /*db*/, const char* /*schema*/, int frames) {
  auto* c = static_cast<Checkpointer*>(self);
  const auto n = static_cast<std::uint32_t>(frames > 0 ? frames : 0);
  c->wal_frames_.store(n, std::memory_order_relaxed);
  if (n < c->threshold_) return SQLITE_OK;
  bool wake = false;
  {
    std::lock_guard lk(c->mu_);
    wake = !c->wanted_;
    c->wanted_ = true;
  }
  if (wake) c->cv_.notify_one();
  return SQLITE_OK;
}

bool Checkpointer::checkpoint(int mode, int& log_frames, int& backfilled) {
  const int rc = sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, mode, &log_frames, &backfilled);
  if (rc == SQLITE_OK) return true;
  if (rc != SQLITE_BUSY) {
    log::warn("wal_checkpoint_failed",
              {{"sqlite_rc", rc}, {"detail", std::string_view(sqlite3_errmsg(db_.handle()))}});
  }
  return false;
}

// PASSIVE passes copy the WAL back without blocking the writer, but the WAL
// only starts over once a checkpoint has copied every frame, which a busy
// writer never lets a PASSIVE pass do. So: PASSIVE until what the writer
// appended during the last pass is small, then RESTART, which holds the
// writer lock while it copies that residue and syncs both files.
//
// Those syncs were the writer's stall (5-15 ms at 16k msgs/s, the whole ack
// p99): a PASSIVE pass syncs the database only when it copied the entire WAL,
// so every page it copied was still unsynced when the RESTART's fsync had to
// write it out. Each pass is therefore followed by fdatasync of both files
// from this thread, where nobody waits. The first pass and its flush take
// tens of milliseconds, during which the writer appends more; a second, short
// pass and flush deal with that, so the RESTART is left with only a few
// milliseconds of frames to copy and sync. The extra syncs change no
// durability guarantee.
bool Checkpointer::cycle() {
  constexpr int kMinPassivePasses = 2;
  constexpr int kMaxPassivePasses = 4;
  constexpr int kRestartResidueFrames = 1000;
  int log_frames = 0;
  int backfilled = 0;
  for (int pass = 0; pass < kMaxPassivePasses; ++pass) {
    if (!checkpoint(SQLITE_CHECKPOINT_PASSIVE, log_frames, backfilled)) return false;
    if (flush_to_disk(path_)) files_flushed_.fetch_add(1, std::memory_order_relaxed);
    if (flush_to_disk(path_ + "-wal")) files_flushed_.fetch_add(1, std::memory_order_relaxed);
    if (pass + 1 >= kMinPassivePasses && log_frames - backfilled <= kRestartResidueFrames) break;
    {
      std::lock_guard lk(mu_);
      if (stop_) return false;
    }
  }
  return checkpoint(SQLITE_CHECKPOINT_RESTART, log_frames, backfilled);
}

void Checkpointer::run() {
  for (;;) {
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return wanted_ || stop_; });
      if (stop_) return;
      wanted_ = false;
    }
    // Requested again by commits made during the last cycle, before the
    // writer started the WAL over: nothing worth copying yet.
    if (wal_frames_.load(std::memory_order_relaxed) < threshold_) continue;
    if (cycle()) {
      completed_.fetch_add(1, std::memory_order_relaxed);
      if (completed_counter_) completed_counter_->fetch_add(1, std::memory_order_relaxed);
      // The length the writer last reported is the old WAL's, which the
      // RESTART just emptied; the writer's next commit starts a new one and
      // reports its length. Without this, the check above saw the old length
      // and ran a whole second cycle (passes, flushes and a RESTART that
      // blocks the writer) on a WAL of a few dozen frames, after every cycle.
      wal_frames_.store(0, std::memory_order_relaxed);
    }
  }
}

}  // namespace chatsdk::server::store
