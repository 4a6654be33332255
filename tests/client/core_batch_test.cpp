// Poll batches: one cache transaction per begin_batch()/end_batch(), nested
// transactions as savepoints, and the open timeline extended from live
// messages without re-reading its window.
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "client/core/list_diff.hpp"
#include "core_fixture.hpp"

using namespace chatsdk;
using namespace chatsdk::client;
using namespace chatsdk::client::test;

namespace {

std::string temp_db(const char* name) {
  auto p = std::filesystem::temp_directory_path() /
           (std::string("chatsdk_batch_") + name + "_" + std::to_string(::getpid()) + ".db");
  for (const char* s : {"", "-wal", "-shm"})
    std::filesystem::remove(p.string() + s);
  return p.string();
}

proto::MessageEvent created(const std::string& ch, Seq seq, Version v,
                            const std::string& sender = "bob") {
  proto::MessageEvent e;
  e.change = proto::MessageChange::created;
  e.actor = sender;
  e.message = msg(ch, seq, v, sender, "m" + std::to_string(seq));
  return e;
}

// What a second process (or the same one after a restart) finds in the file.
struct Durable {
  Seq max_seq = 0;
  Version cursor = 0;
};
Durable read_back(const std::string& path, const std::string& ch) {
  auto s = Store::open(path);
  REQUIRE(s.ok());
  Durable d;
  d.max_seq = (*s)->max_seq(ch);
  if (auto row = (*s)->channel(ch)) d.cursor = row->cursor;
  return d;
}

int count_commits(void* p) {
  ++*static_cast<int*>(p);
  return 0;
}

// Fails the next `*left` commits (the hook's non-zero return turns COMMIT into a rollback).
int fail_commits(void* p) {
  int& left = *static_cast<int*>(p);
  if (left <= 0) return 0;
  --left;
  return 1;
}

int count_window_reads(unsigned, void* p, void* stmt, void*) {
  const char* sql = sqlite3_sql(static_cast<sqlite3_stmt*>(stmt));
  if (sql != nullptr && std::string(sql).find("seq >= ?2 ORDER BY seq") != std::string::npos)
    ++*static_cast<int*>(p);
  return 0;
}

}  // namespace

TEST_CASE("store: a transaction inside a transaction is a savepoint - undone alone") {
  auto s = Store::open(":memory:");
  REQUIRE(s.ok());
  Store& st = **s;
  auto m = [](Seq seq) {
    Message x;
    x.channel = "c";
    x.seq = seq;
    x.version = seq;
    x.sender = "bob";
    x.body = "b";
    return x;
  };
  {
    Transaction outer(st);
    REQUIRE(outer.started());
    CHECK_FALSE(outer.nested());
    st.upsert_message(m(1), false);
    {
      Transaction inner(st);
      REQUIRE(inner.started());
      CHECK(inner.nested());
      st.upsert_message(m(2), false);
      // destroyed without commit: only its write goes
    }
    {
      Transaction inner(st);
      st.upsert_message(m(3), false);
      REQUIRE(inner.commit().ok());
    }
    CHECK(st.in_transaction());
    REQUIRE(outer.commit().ok());
  }
  CHECK_FALSE(st.in_transaction());
  CHECK(st.message("c", 1).has_value());
  CHECK_FALSE(st.message("c", 2).has_value());
  CHECK(st.message("c", 3).has_value());
  {
    Transaction outer(st);
    Transaction inner(st);
    st.upsert_message(m(4), false);
    REQUIRE(inner.commit().ok());
    // outer destroyed without commit: the savepoint's writes go with it
  }
  CHECK_FALSE(st.message("c", 4).has_value());
}

TEST_CASE("batch: a poll's inputs commit once - at end_batch - and are durable then") {
  std::string path = temp_db("once");
  CoreFixture f(path);
  f.go_live({CoreFixture::joined("g1", {msg("g1", 1, 1, "bob", "a")}, 1)});
  int commits = 0;
  sqlite3_commit_hook(f.store->db().handle(), count_commits, &commits);
  auto synchronous = [&] {
    auto s = f.store->db().prepare("PRAGMA synchronous");
    return s.step() ? s.i64(0) : -1;
  };
  CHECK(synchronous() == 2);  // FULL: an op is on disk when the call returns
  f.core->begin_batch();
  CHECK(synchronous() == 1);  // NORMAL: the batch holds only what the server gives back
  for (Seq s = 2; s <= 21; ++s)
    f.core->on_frame(f.conn, created("g1", s, s));
  CHECK(commits == 0);
  CHECK(read_back(path, "g1").max_seq == 1);  // another connection sees nothing yet
  f.core->end_batch();
  CHECK(commits == 1);
  CHECK(synchronous() == 2);
  sqlite3_commit_hook(f.store->db().handle(), nullptr, nullptr);
  Durable d = read_back(path, "g1");
  CHECK(d.max_seq == 21);
  CHECK(d.cursor == 21);
  auto ch = f.core->channel("g1");
  REQUIRE(ch.has_value());
  CHECK(ch->last_seq == 21);
  CHECK(ch->unread == 21);
}

TEST_CASE("batch: a crash between two inputs of a poll loses the whole batch - nothing else") {
  std::string path = temp_db("crash");
  {
    CoreFixture f(path);
    f.go_live({CoreFixture::joined("g1", {msg("g1", 1, 1, "bob", "a")}, 1)});
    auto op = f.core->send_text("g1", "mine");  // durable before the batch
    REQUIRE(op.ok());
    auto send = f.last_sent<proto::Send>();
    REQUIRE(send.has_value());
    f.core->begin_batch();
    f.core->on_frame(f.conn, created("g1", 2, 2));
    proto::Sent ack;
    ack.id = send->id;
    ack.channel = "g1";
    ack.client_id = send->client_id;
    ack.seq = 3;
    ack.version = 3;
    ack.created_at = 1'700'000'100'000;
    f.core->on_frame(f.conn, ack);
    f.core->on_frame(f.conn, created("g1", 4, 4));
    // The process dies here: no end_batch(), the Core and Store are dropped.
    f.core.reset();
    f.store.reset();
  }
  Durable d = read_back(path, "g1");
  CHECK(d.max_seq == 1);  // messages and the cursor rolled back together
  CHECK(d.cursor == 1);
  // The outbox is as it was before the batch: the op is resent with its
  // client id (the server dedupes it), never lost, never doubled.
  CoreFixture g(path);
  auto pending = g.core->pending_ops();
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].state == OpState::queued);
  auto sync = g.handshake();
  REQUIRE(sync.channels.size() == 1);
  CHECK(sync.channels[0].version == 1);  // the sync asks again for what rolled back
}

TEST_CASE("batch: a failed commit withdraws the batch's frames - reloads the outbox - reconnects") {
  std::string path = temp_db("fail");
  CoreFixture f(path);
  f.go_live({CoreFixture::joined("g1", {msg("g1", 1, 1, "bob", "a")}, 1)});
  REQUIRE(f.core->open_timeline("g1").ok());
  auto op = f.core->send_text("g1", "mine");
  REQUIRE(op.ok());
  auto send = f.last_sent<proto::Send>();
  REQUIRE(send.has_value());
  f.clear();
  int fail_next = 1;
  sqlite3_commit_hook(f.store->db().handle(), fail_commits, &fail_next);
  f.core->begin_batch();
  proto::Sent ack;
  ack.id = send->id;
  ack.channel = "g1";
  ack.client_id = send->client_id;
  ack.seq = 2;
  ack.version = 2;
  f.core->on_frame(f.conn, ack);
  f.core->on_frame(f.conn, created("g1", 5, 5));  // a version jump: the core asks for a sync
  f.core->end_batch();
  f.pump();
  sqlite3_commit_hook(f.store->db().handle(), nullptr, nullptr);
  CHECK(f.sent<proto::Sync>().empty());  // asked for inside the failed batch: withdrawn
  bool closed = false;
  for (auto& a : f.actions)
    closed = closed || std::holds_alternative<CloseAction>(a);
  CHECK(closed);
  CHECK(f.core->state() == ConnectionState::disconnected);
  CHECK_FALSE(f.events_of<ErrorEvent>().empty());
  CHECK(f.store->max_seq("g1") == 1);
  auto o = f.core->op(*op);
  REQUIRE(o.has_value());
  CHECK(o->state == OpState::queued);  // reloaded: the ack rolled back, the op goes out again
  // The timeline was rebuilt from the cache: the message and the echo of the op.
  auto tl = f.core->timeline("g1");
  REQUIRE(tl.size() == 2);
  CHECK(tl[0].message.seq == 1);
  CHECK(tl[1].key == send->client_id);
  CHECK(tl[1].state == OpState::queued);
  // Reconnect: the same op is resent with the same client id.
  f.clear();
  auto sync = f.rehandshake();
  proto::SyncResult r;
  r.id = sync.id;
  f.frame(r);
  auto resend = f.last_sent<proto::Send>();
  REQUIRE(resend.has_value());
  CHECK(resend->client_id == send->client_id);
}

TEST_CASE("timeline: live messages of others are appended without re-reading the window") {
  CoreFixture f;
  std::vector<proto::Message> page;
  for (Seq s = 1; s <= 30; ++s)
    page.push_back(msg("g1", s, s, "bob", "old"));
  f.go_live({CoreFixture::joined("g1", page, 30)});
  REQUIRE(f.core->open_timeline("g1").ok());
  std::vector<TimelineItem> mirror;
  auto sync_mirror = [&] {
    for (auto& d : f.events_of<TimelineDiff>())
      apply_diff(mirror, d.ops);
    f.events.clear();
  };
  sync_mirror();
  REQUIRE(mirror.size() == 30);
  int reads = 0;
  sqlite3_trace_v2(f.store->db().handle(), SQLITE_TRACE_STMT, count_window_reads, &reads);
  Seq seq = 30;
  for (int poll = 0; poll < 40; ++poll) {  // 280 messages: the 200-message window slides
    f.core->begin_batch();
    for (int i = 0; i < 7; ++i) {
      ++seq;
      f.core->on_frame(f.conn, created("g1", seq, seq, i % 2 ? "bob" : "carol"));
    }
    f.core->end_batch();
    sync_mirror();
    REQUIRE(mirror == f.core->timeline("g1"));
  }
  CHECK(reads == 0);  // every update was an append
  REQUIRE(mirror.size() == 200);
  CHECK(mirror.front().message.seq == seq - 199);
  CHECK(mirror.back().message.seq == seq);
  // The appended rows are exactly what a rebuild from the cache gives.
  sqlite3_trace_v2(f.store->db().handle(), 0, nullptr, nullptr);
  f.core->close_timeline("g1");
  REQUIRE(f.core->open_timeline("g1").ok());
  auto fresh = f.core->timeline("g1");  // the newest 50, read from SQLite
  REQUIRE(fresh.size() == 50);
  CHECK(std::equal(fresh.begin(), fresh.end(), mirror.end() - 50));
}

TEST_CASE("timeline: own messages - edits and pending ops fall back to a rebuild") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {msg("g1", 1, 1, "bob", "a")}, 1)});
  REQUIRE(f.core->open_timeline("g1").ok());
  std::vector<TimelineItem> mirror;
  auto sync_mirror = [&] {
    for (auto& d : f.events_of<TimelineDiff>())
      apply_diff(mirror, d.ops);
    f.events.clear();
  };
  sync_mirror();
  int reads = 0;
  sqlite3_trace_v2(f.store->db().handle(), SQLITE_TRACE_STMT, count_window_reads, &reads);
  // A local echo sits last: a message of someone else goes above it.
  auto op = f.core->send_text("g1", "mine");
  REQUIRE(op.ok());
  sync_mirror();
  reads = 0;
  f.core->begin_batch();
  f.core->on_frame(f.conn, created("g1", 2, 2));
  f.core->end_batch();
  sync_mirror();
  CHECK(reads == 1);
  REQUIRE(mirror == f.core->timeline("g1"));
  REQUIRE(mirror.size() == 3);
  CHECK(mirror[1].message.seq == 2);
  CHECK(mirror[2].message.client_id == f.core->op(*op)->client_id);
  // An edit of a row already shown is read back, in place.
  proto::MessageEvent edit;
  edit.change = proto::MessageChange::edited;
  edit.actor = "bob";
  edit.message = msg("g1", 2, 3, "bob", "m2 edited");
  edit.message.edited_at = 1'700'000'500'000;
  f.core->begin_batch();
  f.core->on_frame(f.conn, edit);
  f.core->end_batch();
  sync_mirror();
  REQUIRE(mirror == f.core->timeline("g1"));
  CHECK(mirror[1].message.body == "m2 edited");
  sqlite3_trace_v2(f.store->db().handle(), 0, nullptr, nullptr);
}
