// Outbox: durability, per-channel order, dependencies, failures, retry/cancel.
#include <unistd.h>
#include <filesystem>

#include "core_fixture.hpp"

using namespace chatsdk;
using namespace chatsdk::client;
using namespace chatsdk::client::test;

namespace {
proto::Sent sent_ack(const proto::Send& s, Seq seq, Version v) {
  return proto::Sent{s.id, s.channel, s.client_id, seq, v, 1'700'000'100'000};
}
proto::ErrorFrame error(proto::RequestId id, const std::string& code, std::uint32_t retry = 0) {
  proto::ErrorFrame e;
  e.id = id;
  e.code = code;
  e.retry_after_ms = retry;
  return e;
}
std::string temp_db(const char* name) {
  auto p = std::filesystem::temp_directory_path() /
           (std::string("chatsdk_") + name + "_" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(p);
  std::filesystem::remove(p.string() + "-wal");
  std::filesystem::remove(p.string() + "-shm");
  return p.string();
}
}  // namespace

TEST_CASE("outbox: an op is in SQLite when the call returns - even offline") {
  CoreFixture f;
  auto id = f.core->send_text("g1", "hello");
  REQUIRE(id.ok());
  CHECK(f.store->op_count() == 1);
  auto row = f.store->op(*id);
  REQUIRE(row);
  CHECK(row->op.state == OpState::queued);
  CHECK_FALSE(row->op.client_id.empty());
  CHECK(f.sent<proto::Send>().empty());  // offline: nothing on the wire
  CHECK(f.events_of<OpChanged>().back().op.state == OpState::queued);
}

TEST_CASE("outbox: sends of one channel go one at a time - in order") {
  CoreFixture f;
  auto a = f.core->send_text("g1", "A");
  auto b = f.core->send_text("g1", "B");
  auto c = f.core->send_text("g2", "C");
  f.go_live({CoreFixture::joined("g1", {}, 1), CoreFixture::joined("g2", {}, 1)});
  auto sends = f.sent<proto::Send>();
  REQUIRE(sends.size() == 2);  // head of g1 and head of g2
  CHECK(sends[0].body == "A");
  CHECK(sends[1].body == "C");
  f.frame(sent_ack(sends[0], 1, 2));
  sends = f.sent<proto::Send>();
  REQUIRE(sends.size() == 3);
  CHECK(sends[2].body == "B");
  CHECK(f.core->op(*a)->state == OpState::sent);
  CHECK(f.core->op(*a)->seq == 1);
  CHECK(f.core->op(*b)->state == OpState::sending);
  CHECK(f.core->op(*c)->state == OpState::sending);
}

TEST_CASE("outbox: a permanently failed head holds back its channel until cancelled") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {}, 1), CoreFixture::joined("g2", {}, 1)});
  auto a = f.core->send_text("g1", "A");
  auto b = f.core->send_text("g1", "B");
  auto s = f.sent<proto::Send>();
  REQUIRE(s.size() == 1);
  f.frame(error(s[0].id, "body_too_large"));
  auto oa = f.core->op(*a);
  CHECK(oa->state == OpState::failed);
  CHECK(oa->failure->code == Errc::body_too_large);
  CHECK_FALSE(oa->failure->retryable);
  CHECK(f.sent<proto::Send>().size() == 1);  // B is held
  CHECK(f.core->op(*b)->state == OpState::queued);
  // other channels are not affected
  REQUIRE(f.core->send_text("g2", "other").ok());
  CHECK(f.sent<proto::Send>().size() == 2);
  // cancel A: B goes
  REQUIRE(f.core->cancel(*a).ok());
  CHECK(f.core->op(*a)->state == OpState::cancelled);
  auto sends = f.sent<proto::Send>();
  REQUIRE(sends.size() == 3);
  CHECK(sends[2].body == "B");
}

TEST_CASE("outbox: retry re-sends a failed op with the same client_id") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {}, 1)});
  auto a = f.core->send_text("g1", "A");
  auto s = f.sent<proto::Send>();
  f.frame(error(s[0].id, "not_member"));
  CHECK(f.core->op(*a)->state == OpState::failed);
  CHECK(f.core->retry(*a).ok());
  auto s2 = f.sent<proto::Send>();
  REQUIRE(s2.size() == 2);
  CHECK(s2[1].client_id == s[0].client_id);
  CHECK(s2[1].id != s[0].id);
  CHECK_FALSE(f.core->retry(*a).ok());   // sending: not failed
  CHECK_FALSE(f.core->cancel(*a).ok());  // in flight: cannot cancel
}

TEST_CASE("outbox: transient errors retry automatically after retry_after - then fail retryable") {
  CoreFixture f;
  f.options.max_auto_retries = 2;
  f.open();
  f.go_live({CoreFixture::joined("g1", {}, 1)});
  auto a = f.core->send_text("g1", "A");
  auto s = f.sent<proto::Send>();
  f.frame(error(s.back().id, "rate_limited", 700));
  CHECK(f.core->op(*a)->state == OpState::queued);
  f.advance(699);
  CHECK(f.sent<proto::Send>().size() == 1);
  f.advance(1);
  s = f.sent<proto::Send>();
  REQUIRE(s.size() == 2);
  f.frame(error(s.back().id, "rate_limited", 100));
  auto o = f.core->op(*a);
  CHECK(o->state == OpState::failed);  // attempts exhausted: visible, never silent
  CHECK(o->failure->retryable);
  CHECK(o->failure->code == Errc::rate_limited);
}

TEST_CASE("outbox: already_applied resolves the op as sent with the original seq") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {}, 1)});
  auto a = f.core->send_text("g1", "A");
  auto s = f.sent<proto::Send>();
  proto::AlreadyApplied aa;
  aa.id = s[0].id;
  aa.channel = "g1";
  aa.client_id = s[0].client_id;
  aa.seq = 7;
  aa.version = 9;
  f.frame(aa);
  auto o = f.core->op(*a);
  CHECK(o->state == OpState::sent);
  CHECK(o->seq == 7);
  CHECK(f.events_of<ErrorEvent>().empty());
}

TEST_CASE("outbox: in-flight ops are resent after a reconnect with the same client_id") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {}, 1)});
  auto a = f.core->send_text("g1", "A");
  auto first = f.sent<proto::Send>().back();
  f.core->on_closed(f.conn, 1006, "");
  f.pump();
  CHECK(f.core->op(*a)->state == OpState::queued);
  f.clear();
  auto sync = f.rehandshake();
  CHECK(f.sent<proto::Send>().empty());  // not before the sync completes
  proto::SyncResult r;
  r.id = sync.id;
  f.frame(r);
  auto again = f.sent<proto::Send>();
  REQUIRE(again.size() == 1);
  CHECK(again[0].client_id == first.client_id);
}

TEST_CASE("outbox: an edit of an unsent message waits for its seq - then targets it") {
  CoreFixture f;
  auto a = f.core->send_text("g1", "tpyo");
  std::string cid = f.core->op(*a)->client_id;
  auto e = f.core->edit(MessageRef{"g1", 0, cid}, "typo");
  auto r = f.core->react(MessageRef{"g1", 0, cid}, "👍", true);
  REQUIRE(e.ok());
  REQUIRE(r.ok());
  f.go_live({CoreFixture::joined("g1", {}, 1)});
  CHECK(f.sent<proto::Edit>().empty());
  auto s = f.sent<proto::Send>();
  REQUIRE(s.size() == 1);
  f.frame(sent_ack(s[0], 12, 2));
  auto edits = f.sent<proto::Edit>();
  REQUIRE(edits.size() == 1);
  CHECK(edits[0].seq == 12);
  CHECK(edits[0].body == "typo");
  CHECK(f.sent<proto::React>().empty());  // still behind the edit (same channel)
  f.frame(proto::Ok{edits[0].id, "g1", 3});
  CHECK(f.store->message("g1", 12)->body == "typo");
  auto reacts = f.sent<proto::React>();
  REQUIRE(reacts.size() == 1);
  CHECK(reacts[0].seq == 12);
  f.frame(proto::Ok{reacts[0].id, "g1", 4});
  auto m = f.store->message("g1", 12);
  REQUIRE(m->reactions.size() == 1);
  CHECK(m->reactions[0].mine);
  CHECK(f.store->channel("g1")->cursor == 4);
}

TEST_CASE("outbox: cancelling an unsent message fails the ops that target it") {
  CoreFixture f;
  auto a = f.core->send_text("g1", "x");
  std::string cid = f.core->op(*a)->client_id;
  auto d = f.core->remove(MessageRef{"g1", 0, cid});
  REQUIRE(f.core->cancel(*a).ok());
  auto od = f.core->op(*d);
  CHECK(od->state == OpState::failed);
  CHECK(od->failure->code == Errc::cancelled);
}

TEST_CASE("outbox: mark_read applies locally - coalesces - and never waits behind a failed send") {
  CoreFixture f;
  f.go_live({CoreFixture::joined(
      "g1", {msg("g1", 1, 1, "bob", "a"), msg("g1", 2, 2, "bob", "b"), msg("g1", 3, 3, "bob", "c")},
      3)});
  CHECK(f.core->channel("g1")->unread == 3);
  f.core->disconnect();
  auto r1 = f.core->mark_read("g1", 1);
  auto r2 = f.core->mark_read("g1", 0);  // newest
  REQUIRE(r1.ok());
  CHECK(*r1 == *r2);  // coalesced into one op
  CHECK(f.core->channel("g1")->unread == 0);
  CHECK(f.core->op(*r1)->seq == 3);
}

TEST_CASE("outbox: receipts move own messages to delivered and read") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {}, 1)});
  auto a = f.core->send_text("g1", "A");
  auto s = f.sent<proto::Send>();
  f.frame(sent_ack(s[0], 1, 2));
  f.frame(proto::Receipt{"g1", "bob", 0, 1});
  CHECK(f.core->op(*a)->state == OpState::delivered);
  f.frame(proto::Receipt{"g1", "bob", 1, 1});
  CHECK(f.core->op(*a)->state == OpState::read);
  std::vector<OpState> states;
  for (auto& e : f.events_of<OpChanged>())
    if (e.op.id == *a) states.push_back(e.op.state);
  CHECK(states == std::vector<OpState>{OpState::queued, OpState::sending, OpState::sent,
                                       OpState::delivered, OpState::read});
}

TEST_CASE("outbox: survives a crash - reopening resends with the same client_id") {
  std::string path = temp_db("outbox_crash");
  std::string cid;
  {
    CoreFixture f(path);
    f.go_live({CoreFixture::joined("g1", {}, 1)});
    auto a = f.core->send_text("g1", "survive me");
    REQUIRE(a.ok());
    cid = f.core->op(*a)->client_id;
    CHECK(f.sent<proto::Send>().size() == 1);  // in flight when the process dies
  }                                            // crash: objects dropped, nothing flushed explicitly
  CoreFixture g(path);
  auto pending = g.core->pending_ops();
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].state == OpState::queued);
  CHECK(pending[0].client_id == cid);
  g.go_live();
  auto s = g.sent<proto::Send>();
  REQUIRE(s.size() == 1);
  CHECK(s[0].client_id == cid);
  CHECK(s[0].body == "survive me");
  std::filesystem::remove(path);
}

TEST_CASE("outbox: channel create and membership ops carry their client ids") {
  CoreFixture f;
  f.go_live();
  auto c = f.core->create_group("team", "Team", {"bob", "carol"});
  REQUIRE(c.ok());
  auto cc = f.last_sent<proto::ChannelCreate>();
  REQUIRE(cc);
  CHECK(cc->channel == "team");
  CHECK(cc->members.size() == 2);
  proto::ChannelReply reply;
  reply.id = cc->id;
  reply.info = info("team", 0, 1);
  f.frame(reply);
  CHECK(f.core->op(*c)->state == OpState::sent);
  CHECK(f.core->channel("team").has_value());
  auto d = f.core->create_direct("bob");
  auto dc = f.last_sent<proto::ChannelCreate>();
  REQUIRE(dc);
  CHECK(dc->kind == proto::ChannelKind::direct);
  CHECK(f.core->op(*d)->channel == "dm:alice:bob");
  auto l = f.core->leave("team");
  REQUIRE(l.ok());
  auto mr = f.last_sent<proto::MembersRemove>();
  REQUIRE(mr);
  CHECK(mr->users == std::vector<std::string>{"alice"});
}
