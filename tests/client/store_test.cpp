// The SQLite cache on real files: migrations, outbox durability, eviction, suspend.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "client/store/store.hpp"
#include "core_fixture.hpp"

using namespace chatsdk;
using namespace chatsdk::client;

namespace {
struct TempDb {
  std::string path;
  explicit TempDb(const char* name) {
    path = (std::filesystem::temp_directory_path() /
            (std::string("chatsdk_store_") + name + "_" + std::to_string(::getpid()) + ".db"))
               .string();
    wipe();
  }
  ~TempDb() { wipe(); }
  void wipe() {
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path + suffix);
  }
};

Message message(const std::string& ch, Seq seq, std::size_t body_bytes = 10) {
  Message m;
  m.channel = ch;
  m.seq = seq;
  m.version = seq;
  m.sender = "bob";
  m.body = std::string(body_bytes, 'x');
  m.created_at = 1'000 + static_cast<std::int64_t>(seq);
  return m;
}
}  // namespace

TEST_CASE("store: migrations from v1 keep every outbox row") {
  TempDb db("migrate");
  {
    auto s = Store::open(db.path, 1);
    REQUIRE(s.ok());
    CHECK((*s)->schema_version() == 1);
    // rows written by a v1 library
    for (int i = 0; i < 100; ++i) {
      std::string sql =
          "INSERT INTO outbox(kind, state, channel, client_id, body, lane) VALUES(0, 0, 'g1', "
          "'cid" +
          std::to_string(i) + "', 'body', 'g1')";
      REQUIRE((*s)->db().exec(sql.c_str()).ok());
    }
  }
  auto s = Store::open(db.path);
  REQUIRE(s.ok());
  CHECK((*s)->schema_version() == Store::latest_schema());
  CHECK((*s)->op_count() == 100);
  auto ops = (*s)->open_ops();
  REQUIRE(ops.size() == 100);
  CHECK(ops[0].op.client_id == "cid0");
  CHECK(ops[0].attempts == 0);  // new column defaulted
}

TEST_CASE("store: a database from a newer library is refused - not damaged") {
  TempDb db("newer");
  {
    auto s = Store::open(db.path);
    REQUIRE(s.ok());
    REQUIRE((*s)->db().exec("PRAGMA user_version = 99").ok());
  }
  auto s = Store::open(db.path);
  CHECK_FALSE(s.ok());
  CHECK(s.code() == Errc::invalid_state);
}

TEST_CASE("store: messages upsert only with a newer version - round-trip of every field") {
  auto s = Store::open(":memory:");
  REQUIRE(s.ok());
  Store& st = **s;
  Message m = message("g1", 1);
  m.reactions = {Reaction{"👍", 2, true}, Reaction{":x:", 1, false}};
  m.mentions = {"alice", "bob"};
  m.metadata = R"({"a":1})";
  m.reply_to = 0;
  CHECK(st.upsert_message(m, true));
  CHECK_FALSE(st.upsert_message(m, true));  // same version: no change
  auto back = st.message("g1", 1);
  REQUIRE(back);
  CHECK(*back == m);
  Message older = m;
  older.version = 0;
  older.body = "stale";
  CHECK_FALSE(st.upsert_message(older, false));
  CHECK(st.message("g1", 1)->body == m.body);
  CHECK(st.count_mentions_after("g1", 0) == 1);
}

TEST_CASE("store: gaps shrink and split as ranges are filled") {
  auto s = Store::open(":memory:");
  REQUIRE(s.ok());
  Store& st = **s;
  st.add_gap("g", Gap{10, 100});
  st.fill_gap("g", 50, 60);
  auto g = st.gaps("g");
  REQUIRE(g.size() == 2);
  CHECK(g[0].from == 10);
  CHECK(g[0].to == 49);
  CHECK(g[1].from == 61);
  CHECK(g[1].to == 100);
  st.fill_gap("g", 1, 200);
  CHECK(st.gaps("g").empty());
}

TEST_CASE("store: eviction drops old synced history only - never outbox rows or open windows") {
  TempDb db("evict");
  auto s = Store::open(db.path);
  REQUIRE(s.ok());
  Store& st = **s;
  OpRow op;
  op.op.kind = OpKind::send;
  op.op.channel = "g1";
  op.op.client_id = "keep-me";
  op.body = std::string(2000, 'o');
  REQUIRE(st.insert_op(op).ok());
  REQUIRE(st.begin().ok());
  for (Seq q = 1; q <= 2000; ++q) {  // two channels, gapless seqs, interleaved in time
    Message m = message(q % 2 ? "g1" : "g2", (q + 1) / 2, 500);
    m.created_at = 1'000 + static_cast<std::int64_t>(q);
    st.upsert_message(m, false);
  }
  REQUIRE(st.commit().ok());
  std::uint64_t before = st.used_bytes();
  CHECK(before > 1'000'000);
  std::size_t total = 0;
  while (st.used_bytes() > before / 2) {
    std::size_t n = st.evict_oldest(100, {{"g2", 900}});
    if (n == 0) break;
    total += n;
  }
  CHECK(total > 0);
  CHECK(st.used_bytes() <= before / 2);
  CHECK(st.op_count() == 1);
  CHECK(st.op(op.op.id)->body == op.body);
  CHECK(st.messages_from("g2", 900).size() == 101);  // the protected window is intact
  CHECK(st.min_seq("g1") > 1);                       // oldest went first
  CHECK(st.max_seq("g1") == 1000);
  // evict everything evictable: the newest 50 of every channel remain
  while (st.evict_oldest(500, {}) > 0) {
  }
  CHECK(st.messages_from("g1", 1).size() == Store::kKeepPerChannel);
  CHECK(st.messages_from("g2", 1).size() == Store::kKeepPerChannel);
  CHECK(st.max_seq("g2") == 1000);
}

TEST_CASE("store: core evicts over the cap and reports it as an event") {
  TempDb db("evict_core");
  chatsdk::client::test::CoreFixture f(db.path, false);
  f.options.cache_cap_bytes = 400'000;
  f.open(db.path);
  f.go_live({chatsdk::client::test::CoreFixture::joined("g1", {}, 1)});
  auto pending = f.core->send_text("g1", "unsynced");  // in flight: must survive
  REQUIRE(pending.ok());
  // a history load brings far more than the cap
  REQUIRE(f.core->open_timeline("g1").ok());
  f.core->close_timeline("g1");
  proto::HistoryPage page;
  page.channel = "g1";
  for (Seq q = 1; q <= 1500; ++q) {
    auto m = chatsdk::client::test::msg("g1", q, q, "bob", std::string(400, 'y'));
    page.messages.push_back(m);
  }
  REQUIRE(f.core->load_newer("g1").ok());
  page.id = f.last_sent<proto::History>()->id;
  f.frame(page);
  auto ev = f.events_of<CacheEvicted>();
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].messages > 0);
  CHECK(ev[0].bytes_after <= 400'000);
  CHECK(f.store->used_bytes() <= 400'000);
  CHECK(f.core->op(*pending)->state == OpState::sending);
  CHECK(f.store->op_count() == 1);
  CHECK(f.store->max_seq("g1") == 1500);  // newest kept
}

TEST_CASE("store: quiesce leaves no transaction and no active statement") {
  TempDb db("suspend");
  auto s = Store::open(db.path);
  REQUIRE(s.ok());
  Store& st = **s;
  REQUIRE(st.begin().ok());
  st.upsert_message(message("g1", 1), false);
  st.upsert_message(message("g1", 2), false);
  // a read statement left mid-iteration holds a WAL read lock
  auto stmt = st.db().prepare("SELECT seq FROM messages");
  REQUIRE(stmt.step());
  CHECK(st.active_statements() == 1);
  st.quiesce();
  CHECK_FALSE(st.in_transaction());
  CHECK(st.active_statements() == 0);
  // another connection can take the write lock at once
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(db.path.c_str(), &other) == SQLITE_OK);
  CHECK(sqlite3_exec(other, "BEGIN IMMEDIATE; COMMIT;", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
}
