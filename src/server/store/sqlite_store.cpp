#include "server/store/sqlite_store.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <unordered_map>

#include "server/log.hpp"
#include "server/store/page_cache_guard.hpp"
#include "server/store/rows.hpp"
#include "server/store/schema.hpp"
#include "server/store/wal_write_vfs.hpp"

namespace chatsdk::server::store {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kLoadChannels[] = "SELECT " CHATSDK_CHAN_COLS " FROM channels AS c ORDER BY c.id";
constexpr char kLoadMembers[] =
    "SELECT channel, user, role FROM members WHERE removed = 0 ORDER BY channel, user";

// Process-wide SQLite settings, only possible before SQLite initialises;
// later calls fail harmlessly (SQLITE_MISUSE), e.g. when another module
// opened a database first:
// - allocation statistics take a global mutex on every malloc; the store
//   never reads them;
// - the page cache guard (page_cache_guard.hpp) saves a scan of the whole
//   page cache at the end of most write transactions.
void configure_sqlite() {
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (!install_page_cache_guard()) {
      log::warn("sqlite_page_cache_guard_unavailable",
                {{"detail", std::string_view("SQLite was initialised before the store: "
                                             "commits may scan the whole page cache")}});
    }
  });
}

// Checkpoint every ~40 MiB of WAL instead of SQLite's 4 MiB: a group commit
// over many channels dirties hundreds of pages, and hot pages (index tails,
// channel rows) are rewritten many times per checkpoint interval but copied
// back once. Measured with checkpoints on the writer: -25% writer CPU, -45%
// wall time per 100k sends. The checkpoints run on their own thread
// (checkpointer.hpp); past 10x that size the writer checkpoints itself.
constexpr std::uint32_t kCheckpointFrames = 10000;
constexpr std::uint32_t kWriterCheckpointFrames = 100000;

Error db_error(const Db& db, const char* what) {
  return Error{Errc::io_error, std::string(what) + ": " + db.error()};
}

}  // namespace

SqliteStore::SqliteStore(const Config& config, LoopPoster& poster, Metrics& metrics)
    : config_((configure_sqlite(), config)),
      poster_(poster),
      metrics_(metrics),
      path_((std::filesystem::path(config.data_dir) / "chat.db").string()),
      writer_(config_, wdb_),
      reader_(config_, rdb_),
      checkpointer_(kCheckpointFrames, kWriterCheckpointFrames, &metrics.wal_checkpoints),
      quota_(config.max_db_bytes),
      quota_changed_(true) {}

SqliteStore::~SqliteStore() {
  stop_threads();
}

Result<void> SqliteStore::open() {
  if (running_ || closed_) return Error{Errc::invalid_state, "store already opened"};
  std::error_code ec;
  std::filesystem::create_directories(config_.data_dir, ec);
  if (ec) return Error{Errc::io_error, "create " + config_.data_dir + ": " + ec.message()};

  // The writer's WAL appends go out as one write per transaction
  // (wal_write_vfs.hpp); every other connection uses the default VFS.
  if (auto r = wdb_.open(path_, false, wal_write_vfs_name()); !r) return r;
  // WAL: readers never block the writer. synchronous is set explicitly:
  // Debian builds default to FULL even in WAL mode. NORMAL syncs the WAL only
  // at checkpoints (a committed transaction survives a process crash, not
  // necessarily a power loss); FULL syncs on every commit.
  const char* sync = config_.durability == Durability::full ? "PRAGMA synchronous = FULL"
                                                            : "PRAGMA synchronous = NORMAL";
  wdb_.set_fine_busy_timeout(5000);
  if (!wdb_.exec("PRAGMA journal_mode = WAL") || !wdb_.exec(sync) ||
      // Integrity between tables is the writer's job (it checks membership
      // and existence itself); FK checks would only add lookups per insert.
      !wdb_.exec("PRAGMA foreign_keys = OFF") ||
      // 64 MiB page cache: the hot index tails of thousands of channels.
      !wdb_.exec("PRAGMA cache_size = -65536") || !wdb_.exec("PRAGMA temp_store = MEMORY") ||
      !wdb_.exec("PRAGMA journal_size_limit = 67108864")) {
    return db_error(wdb_, "configure database");
  }
  {
    Query q(wdb_, "PRAGMA page_size");
    if (q.step()) page_size_ = q.u32(0);
  }
  if (auto r = migrate(wdb_); !r) return r;
  if (auto r = writer_.load(); !r) return r;
  apply_quota();
  if (wdb_.failed()) return db_error(wdb_, "set quota");

  if (auto r = rdb_.open(path_, false); !r) return r;
  if (!rdb_.exec("PRAGMA query_only = 1") || !rdb_.exec("PRAGMA busy_timeout = 5000") ||
      !rdb_.exec("PRAGMA cache_size = -32768") || !rdb_.exec("PRAGMA temp_store = MEMORY")) {
    return db_error(rdb_, "configure reader");
  }

  if (auto r = checkpointer_.start(path_); !r) return r;
  checkpointer_.attach(wdb_);

  running_ = true;
  // Named so that `top -H` and /proc/PID/task/*/comm tell the threads apart.
  wthread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "store-writer");
    writer_loop();
  });
  rthread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "store-reader");
    reader_loop();
  });
  log::info("store_open",
            {{"path", std::string_view(path_)},
             {"durability", config_.durability == Durability::full ? "full" : "normal"}});
  return {};
}

Result<StartupState> SqliteStore::load() {
  // A connection of its own: the reader thread may already be serving.
  Db db;
  if (auto r = db.open(path_, false); !r) return r.error();
  db.exec("PRAGMA query_only = 1");
  db.exec("BEGIN");
  StartupState state;
  std::unordered_map<std::int64_t, std::size_t> index;
  {
    Query q(db, kLoadChannels);
    while (q.step()) {
      ChannelRecord rec;
      std::int64_t id = 0;
      Version info_version = 0;
      read_channel(q, 0, id, rec.info, info_version);
      index.emplace(id, state.channels.size());
      state.channels.push_back(std::move(rec));
    }
  }
  {
    Query q(db, kLoadMembers);
    while (q.step()) {
      auto it = index.find(q.i64(0));
      if (it == index.end()) continue;
      state.channels[it->second].members.push_back(
          MemberRecord{q.str(1), static_cast<Role>(q.u32(2))});
    }
  }
  if (db.failed()) return db_error(db, "load");
  db.exec("COMMIT");
  return state;
}

void SqliteStore::write(WriteOp op, std::function<void(WriteResult)> done) {
  bool queued = false;
  bool wake = false;
  {
    std::lock_guard lk(wmu_);
    if (running_ && !wstop_) {
      wq_.push_back(PendingWrite{std::move(op), std::move(done)});
      queued = true;
      wake = wq_.size() >= wake_at_;
    }
  }
  // Notified after the unlock: a writer woken under the lock would at once
  // block on it again (two more futex calls and context switches per wake).
  if (wake) wcv_.notify_one();
  if (queued) return;
  poster_.post([done = std::move(done)] {
    WriteResult r;
    r.error = Error{Errc::unavailable, "store is closed"};
    done(std::move(r));
  });
}

void SqliteStore::read(ReadOp op, std::function<void(ReadResult)> done) {
  bool queued = false;
  {
    std::lock_guard lk(rmu_);
    if (running_ && !rstop_) {
      rq_.push_back(PendingRead{std::move(op), std::move(done)});
      queued = true;
    }
  }
  if (queued) {
    rcv_.notify_one();  // after the unlock, as in write()
    return;
  }
  poster_.post([done = std::move(done)] { done(Error{Errc::unavailable, "store is closed"}); });
}

void SqliteStore::close(std::function<void()> done) {
  // Joining here blocks the loop only for the queued work: the threads never
  // wait for the loop (they post, which does not block).
  stop_threads();
  closed_ = true;
  if (done) poster_.post(std::move(done));
}

void SqliteStore::stop_threads() {
  if (!running_) return;
  // First: the writer's final TRUNCATE checkpoint must not meet a running one.
  checkpointer_.stop();
  {
    std::lock_guard lk(wmu_);
    wstop_ = true;
  }
  wcv_.notify_all();
  {
    std::lock_guard lk(rmu_);
    rstop_ = true;
  }
  rcv_.notify_all();
  if (wthread_.joinable()) wthread_.join();
  if (rthread_.joinable()) rthread_.join();
  running_ = false;
  rdb_.close();
  wdb_.close();
  log::info("store_closed", {{"path", std::string_view(path_)}});
}

void SqliteStore::set_max_db_bytes(std::uint64_t bytes) {
  quota_.store(bytes);
  quota_changed_.store(true);
}

void SqliteStore::apply_quota() {
  if (!quota_changed_.exchange(false)) return;
  const std::uint64_t bytes = quota_.load();
  // max_page_count is per connection and not persistent; SQLite keeps it at
  // least at the current page count. Writes that need more pages fail with
  // SQLITE_FULL, exactly like a full disk.
  const std::uint64_t pages =
      bytes == 0 ? 4294967294ull : std::max<std::uint64_t>(1, bytes / page_size_);
  const std::string sql = "PRAGMA max_page_count = " + std::to_string(pages);
  wdb_.exec(sql.c_str());
}

// ---------------------------------------------------------------- writer thread

void SqliteStore::writer_loop() {
  std::vector<PendingWrite> batch;
  const std::size_t max_ops = std::max<std::uint32_t>(1, config_.group_commit_max_ops);
  const std::size_t target_ops =
      std::clamp<std::size_t>(config_.group_commit_target_ops, 1, max_ops);
  const auto max_delay = std::chrono::microseconds(config_.group_commit_max_delay_us);
  std::size_t previous = 0;
  Clock::time_point window_start{};
  for (;;) {
    {
      std::unique_lock lk(wmu_);
      // Under load (the last batch had company), sleep out the group-commit
      // window that began when the last batch was taken, or until target_ops
      // are waiting: the ops in between do not wake us. One wake per batch
      // instead of a wake by the first op plus a timed wait for the rest; no
      // op waits longer than max_delay, and at high rates a batch closes as
      // soon as it is big enough to spread the commit's fixed cost. Idle, the
      // first op wakes us and commits at once.
      if (previous > 1 && max_delay.count() > 0 && !wstop_) {
        wake_at_ = target_ops;
        wcv_.wait_until(lk, window_start + max_delay,
                        [&] { return wq_.size() >= target_ops || wstop_; });
      }
      wake_at_ = 1;
      wcv_.wait(lk, [&] { return !wq_.empty() || wstop_; });
      if (wq_.empty()) break;  // stopping and drained
      window_start = Clock::now();
      while (!wq_.empty() && batch.size() < max_ops) {
        batch.push_back(std::move(wq_.front()));
        wq_.pop_front();
      }
    }
    apply_quota();
    execute(batch);
    previous = batch.size();
    batch.clear();
    if (checkpointer_.writer_must_checkpoint()) {
      // Rare by design: logged, because every queued send waits for it.
      const auto t0 = Clock::now();
      wdb_.exec("PRAGMA wal_checkpoint(RESTART)");
      wdb_.clear_error();
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
      log::warn("wal_checkpoint_on_writer", {{"ms", ms.count()}});
    }
  }
  // A clean close leaves no channel row behind its counters: loading derives
  // them either way, this keeps the file tidy for tools that read it.
  if (wdb_.exec("BEGIN IMMEDIATE")) {
    writer_.write_lagging_rows();
    if (!wdb_.failed()) wdb_.exec("COMMIT");
  }
  if (wdb_.failed()) {
    log::warn("store_close_counters", {{"detail", std::string_view(wdb_.error())}});
    wdb_.clear_error();
    if (wdb_.in_transaction()) wdb_.exec("ROLLBACK");
    wdb_.clear_error();
  }
  wdb_.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  wdb_.clear_error();
}

void SqliteStore::execute(std::vector<PendingWrite>& batch) {
  std::vector<WriteResult> results(batch.size());
  if (!transact(batch, 0, batch.size(), results) && batch.size() > 1) {
    // One op's failure must not fail the others: retry each alone.
    for (std::size_t i = 0; i < batch.size(); ++i) {
      std::vector<WriteResult> one(1);
      transact(batch, i, i + 1, one);
      results[i] = std::move(one[0]);
    }
  }
  for (std::size_t i = 0; i < batch.size(); ++i)
    writer_.finish(batch[i].op, results[i]);

  std::vector<std::function<void(WriteResult)>> dones;
  dones.reserve(batch.size());
  for (auto& p : batch)
    dones.push_back(std::move(p.done));
  poster_.post([dones = std::move(dones), results = std::move(results)]() mutable {
    for (std::size_t i = 0; i < dones.size(); ++i) {
      if (dones[i]) dones[i](std::move(results[i]));
    }
  });
}

bool SqliteStore::transact(std::vector<PendingWrite>& batch, std::size_t first, std::size_t last,
                           std::vector<WriteResult>& results) {
  const auto t0 = Clock::now();
  writer_.begin();
  if (wdb_.run_cached("BEGIN IMMEDIATE")) {
    for (std::size_t i = first; i < last && !wdb_.failed(); ++i) {
      results[i - first] = writer_.apply(batch[i].op);
    }
    if (!wdb_.failed()) writer_.flush();
    if (!wdb_.failed()) wdb_.run_cached("COMMIT");
  }
  if (!wdb_.failed()) {
    writer_.committed();
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
    metrics_.observe_commit_us(static_cast<std::uint64_t>(us.count()));
    return true;
  }
  const std::string cause = wdb_.error();
  const int rc = wdb_.rc();
  wdb_.clear_error();
  if (wdb_.in_transaction()) wdb_.exec("ROLLBACK");
  wdb_.clear_error();
  writer_.rollback();
  metrics_.commit_failures.fetch_add(1, std::memory_order_relaxed);
  log::warn("store_commit_failed",
            {{"ops", last - first}, {"sqlite_rc", rc}, {"detail", std::string_view(cause)}});
  for (std::size_t i = first; i < last; ++i) {
    WriteResult& r = results[i - first];
    r = WriteResult{};
    r.error = Error{Errc::storage_failed, "nothing was stored"};
  }
  return false;
}

// ---------------------------------------------------------------- reader thread

void SqliteStore::reader_loop() {
  for (;;) {
    PendingRead p;
    {
      std::unique_lock lk(rmu_);
      rcv_.wait(lk, [&] { return !rq_.empty() || rstop_; });
      if (rq_.empty()) return;
      p = std::move(rq_.front());
      rq_.pop_front();
    }
    ReadResult r = reader_.run(p.op);
    poster_.post([done = std::move(p.done), r = std::move(r)]() mutable {
      if (done) done(std::move(r));
    });
  }
}

std::unique_ptr<Store> make_sqlite_store(const Config& config, LoopPoster& poster,
                                         Metrics& metrics) {
  return std::make_unique<SqliteStore>(config, poster, metrics);
}

}  // namespace chatsdk::server::store
