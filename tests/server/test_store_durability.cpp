// SQLite store: group commit, storage failures (full disk via max_db_bytes),
// restarts with and without close, crash images, kill -9, schema migration.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <set>

#include "server/store/schema.hpp"
#include "test_store_fixture.hpp"

namespace chatsdk::server::store::test {
namespace {

/// Every message of a channel, oldest first (admin read: no membership check).
std::vector<proto::Message> all_messages(StoreFixture& f, const std::string& channel) {
  // The oldest page is "before 501"; then keyset forward with `after`.
  std::vector<proto::Message> out = f.history("", channel, 501, 0, 500).messages;
  if (out.size() < 500) return out;
  Seq after = out.back().seq;
  for (;;) {
    auto page = f.history("", channel, 0, after, 500);
    out.insert(out.end(), page.messages.begin(), page.messages.end());
    if (!page.more_after || page.messages.empty()) return out;
    after = page.messages.back().seq;
  }
}

void check_gapless(const std::vector<proto::Message>& msgs) {
  for (std::size_t i = 0; i < msgs.size(); ++i)
    REQUIRE(msgs[i].seq == i + 1);
}

TEST_CASE("store: group commit puts many ops in one transaction and posts once per batch") {
  StoreFixture f;
  f.open();
  REQUIRE(f.create("alice", "g", {"bob"}).ok());
  const auto commits_before = f.metrics.commits.load();
  const auto posts_before = f.poster.posts();
  constexpr int kOps = 1000;
  std::vector<WriteResult> results;
  results.reserve(kOps);
  for (int i = 0; i < kOps; ++i) {
    SendOp op;
    op.user = "alice";
    op.channel = "g";
    op.client_id = "gc-" + std::to_string(i);
    op.body = "message body number " + std::to_string(i);
    op.now = kNow;
    f.store->write(std::move(op), [&](WriteResult r) { results.push_back(std::move(r)); });
  }
  REQUIRE(f.poster.pump_until([&] { return results.size() == kOps; }));
  const auto commits = f.metrics.commits.load() - commits_before;
  const auto posts = f.poster.posts() - posts_before;
  MESSAGE("1000 sends took " << commits << " commits");
  CHECK(commits < kOps / 5);
  CHECK(posts == commits);
  for (int i = 0; i < kOps; ++i) {
    REQUIRE(results[static_cast<std::size_t>(i)].ok());
    CHECK(results[static_cast<std::size_t>(i)].seq == static_cast<Seq>(i + 1));  // submission order
  }
  CHECK(f.metrics.commit_failures.load() == 0);
  std::uint64_t bucketed = 0;
  for (const auto& b : f.metrics.commit_latency_buckets)
    bucketed += b.load();
  CHECK(bucketed == f.metrics.commits.load());
}

TEST_CASE("store: a lone op on an idle store is committed without waiting for a batch") {
  StoreFixture f;
  f.config.group_commit_max_delay_us = 400'000;  // a wait would be obvious
  f.open();
  REQUIRE(f.create("alice", "idle", {}).ok());
  // Load first (batches > 1), then idle, then single sends.
  std::size_t acked = 0;
  for (int i = 0; i < 200; ++i) {
    f.store->write(SendOp{"alice", "idle", "burst-" + std::to_string(i), "x", 0, {}, {}, kNow},
                   [&](WriteResult) { ++acked; });
  }
  REQUIRE(f.poster.pump_until([&] { return acked == 200; }));
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(f.send("alice", "idle", "lone").ok());
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    // Right after load the writer may wait up to the bound for company (plus
    // the commit itself); once idle it does not wait at all.
    CHECK(ms < (i == 0 ? 400 + 250 : 250));
  }
}

/// Puts the writer into a group-commit window: sends pairs of ops until one
/// pair shares a transaction (the writer may take the first op of a pair
/// alone). Returns false if that never happened.
bool open_commit_window(StoreFixture& f, const std::string& channel) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const auto commits_before = f.metrics.commits.load();
    std::size_t acked = 0;
    for (int i = 0; i < 2; ++i) {
      f.store->write(SendOp{"alice", channel, f.cid(), "pair", 0, {}, {}, kNow},
                     [&](WriteResult) { ++acked; });
    }
    REQUIRE(f.poster.pump_until([&] { return acked == 2; }));
    if (f.metrics.commits.load() - commits_before == 1) return true;
  }
  return false;
}

/// Milliseconds until `n` sends, queued at once into an open window, are all
/// committed; `commits` gets the number of transactions they took.
std::int64_t commit_ms(StoreFixture& f, const std::string& channel, int n, std::uint64_t& commits) {
  const auto commits_before = f.metrics.commits.load();
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t acked = 0;
  for (int i = 0; i < n; ++i) {
    f.store->write(SendOp{"alice", channel, f.cid(), "batch", 0, {}, {}, kNow}, [&](WriteResult r) {
      CHECK(r.ok());
      ++acked;
    });
  }
  REQUIRE(f.poster.pump_until([&] { return acked == static_cast<std::size_t>(n); }));
  commits = f.metrics.commits.load() - commits_before;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               t0)
      .count();
}

TEST_CASE("store: a group-commit window closes early once target_ops ops are waiting") {
  StoreFixture f;
  f.config.group_commit_max_delay_us = 1'000'000;  // a full window would be obvious
  f.config.group_commit_target_ops = 8;
  f.open();
  REQUIRE(f.create("alice", "w", {}).ok());

  // target_ops ops end the window at once, in one transaction.
  REQUIRE(open_commit_window(f, "w"));
  std::uint64_t commits = 0;
  CHECK(commit_ms(f, "w", 8, commits) < 500);
  CHECK(commits == 1);

  // One op fewer waits for the window's end (1 s after it began), then
  // commits in one transaction too.
  REQUIRE(open_commit_window(f, "w"));
  CHECK(commit_ms(f, "w", 7, commits) >= 500);
  CHECK(commits == 1);
}

TEST_CASE("store: a full disk fails only the op that does not fit, nothing half-written") {
  StoreFixture f;
  f.config.max_body_bytes = 4 * 1024 * 1024;  // let one op need more space than the quota has
  f.open();
  REQUIRE(f.create("alice", "d", {"bob"}).ok());
  for (int i = 0; i < 5; ++i)
    REQUIRE(f.send("alice", "d", "small").ok());
  const auto size = std::filesystem::file_size(f.store->path()) +
                    std::filesystem::file_size(f.store->path() + "-wal");
  f.store->set_max_db_bytes(size + 256 * 1024);

  // Queue small sends around one that cannot fit: whatever the batching, only
  // the big one fails and the others keep their order and gapless seqs.
  std::vector<std::optional<WriteResult>> results(5);
  for (std::size_t i = 0; i < results.size(); ++i) {
    SendOp op;
    op.user = "alice";
    op.channel = "d";
    op.client_id = "full-" + std::to_string(i);
    op.body = i == 2 ? std::string(1024 * 1024, 'x') : "fits";
    op.mentions = {"bob"};
    op.now = kNow;
    f.store->write(std::move(op), [&results, i](WriteResult r) { results[i] = std::move(r); });
  }
  REQUIRE(f.poster.pump_until([&] {
    for (const auto& r : results) {
      if (!r) return false;
    }
    return true;
  }));
  CHECK(results[2]->error.code == Errc::storage_failed);
  CHECK(results[0]->seq == 6);
  CHECK(results[1]->seq == 7);
  CHECK(results[3]->seq == 8);  // the failed op consumed no seq
  CHECK(results[4]->seq == 9);
  CHECK(f.metrics.commit_failures.load() >= 1);

  auto msgs = all_messages(f, "d");
  REQUIRE(msgs.size() == 9);
  check_gapless(msgs);
  for (const auto& m : msgs)
    CHECK(m.body.size() < 100);
  // No stray mention or dedupe row from the failed op: its client_id is free.
  CHECK(find_channel(f.sync("bob", {{"d", 1}}), "d")->mentions == 4);

  // Space comes back: the same op (a client resend) now succeeds as new.
  f.store->set_max_db_bytes(0);
  auto retry = f.send("alice", "d", std::string(1024 * 1024, 'x'), "full-2");
  REQUIRE(retry.ok());
  CHECK_FALSE(retry.already_applied);
  CHECK(retry.seq == 10);
  CHECK(retry.version == 11);
}

TEST_CASE("store: a failed transaction leaves no trace in the writer's memory either") {
  StoreFixture f;
  f.config.max_metadata_bytes = 4 * 1024 * 1024;
  f.open();
  REQUIRE(f.create("alice", "keep", {"bob"}).ok());
  const auto size = std::filesystem::file_size(f.store->path()) +
                    std::filesystem::file_size(f.store->path() + "-wal");
  f.store->set_max_db_bytes(size + 128 * 1024);
  const std::string huge = "{\"x\":\"" + std::string(1024 * 1024, 'y') + "\"}";

  // A channel whose creation did not commit does not exist afterwards.
  CreateChannelOp create;
  create.user = "alice";
  create.client_id = "create-big";
  create.channel = "ghost";
  create.metadata.json = huge;
  CHECK(f.write(create).error.code == Errc::storage_failed);
  CHECK(f.send("alice", "ghost", "hello?").error.code == Errc::not_found);

  // A channel update that did not commit leaves the old name and version.
  UpdateChannelOp up;
  up.user = "alice";
  up.channel = "keep";
  up.client_id = "update-big";
  up.name = "new name";
  up.metadata = proto::JsonObject{huge};
  CHECK(f.write(up).error.code == Errc::storage_failed);
  UpdateChannelOp noop;
  noop.user = "alice";
  noop.channel = "keep";
  noop.client_id = "noop";
  auto state = f.write(noop);
  REQUIRE(state.ok());
  REQUIRE(state.channel_state.has_value());
  CHECK(state.channel_state->info.name == "keep");
  CHECK(state.channel_state->info.version == 1);
  CHECK(state.version == 0);  // the no-op itself assigns no version

  // With space back, both succeed as first-time ops (no dedupe row was kept).
  f.store->set_max_db_bytes(0);
  auto created = f.write(create);
  REQUIRE(created.ok());
  CHECK_FALSE(created.already_applied);
  auto updated = f.write(up);
  REQUIRE(updated.ok());
  CHECK(updated.version == 2);
  CHECK(updated.channel_state->info.name == "new name");
}

TEST_CASE("store: reopening after close continues every counter") {
  StoreFixture f;
  f.config.durability = Durability::full;  // synchronous=FULL path (power-loss safe)
  f.open();
  REQUIRE(f.create("alice", "k", {"bob"}).ok());
  for (int i = 0; i < 10; ++i)
    f.send("alice", "k", "x");
  REQUIRE(f.react("bob", "k", 3, "👍").ok());
  f.close();
  // close() checkpointed: the WAL is gone or empty.
  const std::string wal = f.dir.path + "/chat.db-wal";
  const bool wal_empty = !std::filesystem::exists(wal) || std::filesystem::file_size(wal) == 0;
  CHECK(wal_empty);
  f.open();
  auto r = f.send("alice", "k", "after restart");
  CHECK(r.seq == 11);
  CHECK(r.version == 13);  // 1 create + 10 sends + 1 reaction + this
  check_gapless(all_messages(f, "k"));
}

TEST_CASE("store: a crash image (db + wal copied while open) holds every acked write") {
  StoreFixture f;
  f.open();
  REQUIRE(f.create("alice", "x", {"bob"}).ok());
  for (int i = 0; i < 300; ++i)
    REQUIRE(f.send("alice", "x", "m" + std::to_string(i)).ok());
  REQUIRE(f.react("bob", "x", 5, "🔥").ok());
  // Everything above was acked; copy the files as a crash would leave them
  // (no checkpoint, no shm: SQLite recovers from the WAL).
  TempDir crash;
  namespace fs = std::filesystem;
  fs::copy_file(f.store->path(), crash.path + "/chat.db");
  REQUIRE(fs::exists(f.store->path() + "-wal"));
  fs::copy_file(f.store->path() + "-wal", crash.path + "/chat.db-wal");

  StoreFixture g;
  g.config.data_dir = crash.path;
  g.open();
  auto msgs = all_messages(g, "x");
  REQUIRE(msgs.size() == 300);
  check_gapless(msgs);
  CHECK(msgs[4].reactions.size() == 1);
  auto r = g.send("alice", "x", "after crash");
  CHECK(r.seq == 301);
  CHECK(r.version == 303);
  CHECK(g.send("alice", "x", "m0-dup", "c2").already_applied);  // dedupe survived too
  f.close();
}

TEST_CASE("store: after a crash, seq and version continue from whichever change came last") {
  // Sends do not write the channel row (rows.hpp): a crash image holds the
  // row as the last member-count change left it, and opening derives the
  // counters from the rows each kind of change writes.
  struct LastChange {
    const char* name;
    std::function<WriteResult(StoreFixture&)> run;
    bool member_count_changes = false;  // then the row is written with it
  };
  const std::vector<LastChange> kinds = {
      {"send", [](StoreFixture& f) { return f.send("alice", "k", "last"); }},
      {"reply (bumps its parent)", [](StoreFixture& f) { return f.send("bob", "k", "re", {}, 2); }},
      {"reaction", [](StoreFixture& f) { return f.react("bob", "k", 1, "👍"); }},
      {"edit",
       [](StoreFixture& f) {
         EditOp op{"alice", "k", f.cid(), "edited", 3, {}, kNow};
         return f.write(std::move(op));
       }},
      {"delete",
       [](StoreFixture& f) {
         DeleteOp op{"alice", "k", f.cid(), 2, false, kNow};
         return f.write(std::move(op));
       }},
      {"role change",
       [](StoreFixture& f) { return f.set_role("alice", "k", "bob", Role::moderator); }},
      {"member removed", [](StoreFixture& f) { return f.remove("alice", "k", {"bob"}); }, true},
      {"channel renamed",
       [](StoreFixture& f) {
         UpdateChannelOp op;
         op.user = "alice";
         op.channel = "k";
         op.client_id = f.cid();
         op.name = "renamed";
         op.now = kNow;
         return f.write(std::move(op));
       }},
  };
  for (const auto& kind : kinds) {
    const std::string name = kind.name;
    CAPTURE(name);
    StoreFixture f;
    f.open();
    REQUIRE(f.create("alice", "k", {"bob"}).ok());
    for (int i = 0; i < 3; ++i)
      REQUIRE(f.send("alice", "k", "m").ok());
    const WriteResult last = kind.run(f);
    REQUIRE(last.ok());
    REQUIRE(last.version > 4);  // the change under test made the newest version
    {
      // The sends left the channel row behind (unless the member count
      // changed): what follows is derived.
      Db raw;
      REQUIRE(raw.open(f.store->path(), true).ok());
      Query q(raw, "SELECT last_seq FROM channels WHERE cid = 'k'");
      REQUIRE(q.step());
      CHECK(q.u64(0) == (kind.member_count_changes ? 3 : 0));
    }
    TempDir crash;
    namespace fs = std::filesystem;
    fs::copy_file(f.store->path(), crash.path + "/chat.db");
    fs::copy_file(f.store->path() + "-wal", crash.path + "/chat.db-wal");
    const Seq last_seq = last.seq > 3 ? last.seq : 3;

    StoreFixture g;
    g.config.data_dir = crash.path;
    g.open();
    auto r = g.send("alice", "k", "after crash");
    REQUIRE(r.ok());
    CHECK(r.seq == last_seq + 1);
    CHECK(r.version == last.version + 1);
    auto s = g.sync_one("alice", {proto::ChannelCursor{"k", 0}}, "k");
    CHECK(s.last_seq == last_seq + 1);
    g.close();
    // A clean close brings the row up to date.
    Db raw;
    REQUIRE(raw.open(crash.path + "/chat.db", true).ok());
    Query q(raw, "SELECT last_seq, version FROM channels WHERE cid = 'k'");
    REQUIRE(q.step());
    CHECK(q.u64(0) == last_seq + 1);
    CHECK(q.u64(1) == last.version + 1);
    f.close();
  }
}

TEST_CASE("store: kill -9 mid-stream loses nothing acked and reuses no seq") {
  TempDir dir;
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Child: keep 64 sends in flight forever; report each acked seq.
    ::close(fds[0]);
    Config config;
    config.data_dir = dir.path;
    TestPoster poster;
    Metrics metrics;
    SqliteStore store(config, poster, metrics);
    if (!store.open()) _exit(2);
    bool created = false;
    CreateChannelOp c;
    c.user = "alice";
    c.channel = "k9";
    c.client_id = "create";
    store.write(c, [&](WriteResult r) { created = r.ok(); });
    poster.pump_until([&] { return created; });
    int in_flight = 0;
    std::uint64_t n = 0;
    for (;;) {
      while (in_flight < 64) {
        SendOp op;
        op.user = "alice";
        op.channel = "k9";
        op.client_id = "k" + std::to_string(n++);
        op.body = "payload";
        ++in_flight;
        store.write(std::move(op), [&, fd = fds[1]](WriteResult r) {
          --in_flight;
          if (!r.ok()) _exit(3);
          const std::uint64_t seq = r.seq;
          if (write(fd, &seq, sizeof seq) != sizeof seq) _exit(4);
        });
      }
      poster.pump_until([&] { return in_flight < 64; });
    }
  }
  ::close(fds[1]);
  std::set<Seq> acked;
  Seq seq = 0;
  while (acked.size() < 3000 && read(fds[0], &seq, sizeof seq) == sizeof seq)
    acked.insert(seq);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ::close(fds[0]);
  REQUIRE(acked.size() == 3000);

  StoreFixture f;
  f.config.data_dir = dir.path;
  f.open();
  auto msgs = all_messages(f, "k9");
  check_gapless(msgs);
  REQUIRE(msgs.size() >= acked.size());
  for (Seq s : acked)
    CHECK(msgs[s - 1].seq == s);
  MESSAGE("acked " << acked.size() << ", committed " << msgs.size());
  auto next = f.send("alice", "k9", "after kill");
  CHECK(next.seq == msgs.size() + 1);
}

TEST_CASE("store: an older schema version upgrades in place without losing rows") {
  TempDir dir;
  {
    Db db;
    REQUIRE(db.open(dir.path + "/chat.db", false).ok());
    REQUIRE(migrate(db, 1).ok());
    REQUIRE(db.exec(R"sql(
      INSERT INTO channels (id, cid, kind, name, created_by, created_at, last_seq, version, member_count)
        VALUES (1, 'old', 1, 'Old channel', 'alice', 1, 2, 3, 2);
      INSERT INTO members (channel, user, role, version) VALUES (1, 'alice', 2, 1), (1, 'bob', 0, 1);
      INSERT INTO messages (channel, seq, version, created_version, sender, client_id, body, created_at, mentions)
        VALUES (1, 1, 2, 2, 'alice', 'o1', 'first', 1, '["bob"]'),
               (1, 2, 3, 3, 'alice', 'o2', 'second', 2, '');
      INSERT INTO op_dedupe (user, client_id, kind, channel, seq, version)
        VALUES ('alice', 'e1', 1, 'old', 1, 3);
      PRAGMA user_version = 1;
    )sql"));
  }
  StoreFixture f;
  f.config.data_dir = dir.path;
  f.open();
  {
    Db db;
    REQUIRE(db.open(dir.path + "/chat.db", false).ok());
    Query q(db, "PRAGMA user_version");
    REQUIRE(q.step());
    CHECK(q.u64(0) == schema_version());
  }
  auto state = f.store->load();
  REQUIRE(state.ok());
  REQUIRE(state->channels.size() == 1);
  CHECK(state->channels[0].info.name == "Old channel");
  CHECK(state->channels[0].members.size() == 2);
  auto msgs = all_messages(f, "old");
  REQUIRE(msgs.size() == 2);
  CHECK(msgs[0].body == "first");
  // v2 backfilled the mentions table from the stored arrays.
  CHECK(find_channel(f.sync("bob", {{"old", 3}}), "old")->mentions == 1);
  auto r = f.send("bob", "old", "new");
  CHECK(r.seq == 3);
  CHECK(r.version == 4);
  CHECK(f.send("alice", "old", "dup", "o1").already_applied);
  // v4 copied the other ops' dedupe rows: an edit replayed with a stored
  // client id is answered from them and changes nothing.
  EditOp edit;
  edit.user = "alice";
  edit.channel = "old";
  edit.client_id = "e1";
  edit.seq = 1;
  edit.body = "edited again";
  auto replay = f.write(std::move(edit));
  CHECK(replay.already_applied);
  CHECK(replay.seq == 1);
  CHECK(all_messages(f, "old")[0].body == "first");
}

TEST_CASE("store: the dedupe keys lead with the client id and find resends") {
  // SDK client ids are ULIDs (time first), so an index that leads with them
  // appends at its end instead of dirtying one random page per sender.
  StoreFixture f;
  f.open();
  REQUIRE(f.create("alice", "d", {"bob"}).ok());
  REQUIRE(f.send("alice", "d", "one", "01JD3QW9Z5X8K2M4N6P8R0T2V4").seq == 1);
  {
    Db db;
    REQUIRE(db.open(f.config.data_dir + "/chat.db", false).ok());
    Query cols(db, "SELECT name FROM pragma_index_info('messages_by_client_id') ORDER BY seqno");
    REQUIRE(cols.step());
    CHECK(cols.text(0) == "client_id");
    REQUIRE(cols.step());
    CHECK(cols.text(0) == "sender");
    Query plan(db, "EXPLAIN QUERY PLAN SELECT seq FROM messages WHERE sender = ?1 AND client_id = ?2");
    REQUIRE(plan.step());
    CHECK(plan.text(3).find("USING INDEX messages_by_client_id") != std::string::npos);
    // The other ops' dedupe table is keyed the same way.
    Query key(db, "SELECT name FROM pragma_table_info('op_dedupe') WHERE pk > 0 ORDER BY pk");
    REQUIRE(key.step());
    CHECK(key.text(0) == "client_id");
    REQUIRE(key.step());
    CHECK(key.text(0) == "user");
  }
  auto again = f.send("alice", "d", "one again", "01JD3QW9Z5X8K2M4N6P8R0T2V4");
  CHECK(again.already_applied);
  CHECK(again.seq == 1);
  // The same client id from another sender is a different message.
  auto bobs = f.send("bob", "d", "bob's", "01JD3QW9Z5X8K2M4N6P8R0T2V4");
  CHECK_FALSE(bobs.already_applied);
  CHECK(bobs.seq == 2);
}

TEST_CASE("store: a database newer than the binary is refused") {
  TempDir dir;
  {
    Db db;
    REQUIRE(db.open(dir.path + "/chat.db", false).ok());
    REQUIRE(db.exec("PRAGMA user_version = 999"));
  }
  Config config;
  config.data_dir = dir.path;
  TestPoster poster;
  Metrics metrics;
  SqliteStore store(config, poster, metrics);
  auto r = store.open();
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == Errc::io_error);
}

TEST_CASE("store: writes after close are refused with unavailable") {
  StoreFixture f;
  f.open();
  REQUIRE(f.create("alice", "z", {}).ok());
  bool done = false;
  f.store->close([&] { done = true; });
  REQUIRE(f.poster.pump_until([&] { return done; }));
  auto r = f.send("alice", "z", "late");
  CHECK(r.error.code == Errc::unavailable);
  CHECK(f.read_raw(HistoryQuery{"z", "alice", 0, 0, 0}).code() == Errc::unavailable);
}

}  // namespace
}  // namespace chatsdk::server::store::test
