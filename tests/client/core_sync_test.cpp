// Sync and live events: idempotent apply, cursors, gaps, too_far_behind.
#include "core_fixture.hpp"

using namespace chatsdk;
using namespace chatsdk::client;
using namespace chatsdk::client::test;

namespace {
proto::ChannelSync delta(const std::string& ch, std::vector<proto::Message> msgs, Version v,
                         Seq last_seq, Seq read_seq = 0) {
  proto::ChannelSync cs;
  cs.channel = ch;
  cs.status = proto::SyncStatus::delta;
  cs.messages = std::move(msgs);
  cs.version = v;
  cs.head_version = v;
  cs.last_seq = last_seq;
  cs.read_seq = read_seq;
  cs.unread = static_cast<std::uint32_t>(last_seq - read_seq);
  return cs;
}
}  // namespace

TEST_CASE("sync: joined channel is stored with its page - cursor and server counts") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {msg("g1", 1, 2, "bob", "hi"), msg("g1", 2, 3, "bob", "yo")},
                                 3, 0)});
  auto ch = f.core->channel("g1");
  REQUIRE(ch);
  CHECK(ch->last_seq == 2);
  CHECK(ch->unread == 2);
  REQUIRE(ch->last_message);
  CHECK(ch->last_message->body == "yo");
  CHECK(f.store->channel("g1")->cursor == 3);
  // next connect sends that cursor
  f.core->on_closed(f.conn, 1006, "");
  auto s = std::optional<proto::Sync>(f.rehandshake());
  REQUIRE(s->channels.size() == 1);
  CHECK(s->channels[0] == proto::ChannelCursor{"g1", 3});
}

TEST_CASE("sync: applying the same delta twice is idempotent - stale versions never win") {
  CoreFixture f;
  auto s = f.handshake();
  proto::SyncResult r;
  r.id = s.id;
  r.channels = {CoreFixture::joined("g1", {msg("g1", 1, 1, "bob", "v1")}, 1)};
  f.frame(r);
  // an edit arrives live
  proto::MessageEvent ev;
  ev.change = proto::MessageChange::edited;
  ev.message = msg("g1", 1, 2, "bob", "v2");
  f.frame(ev);
  f.frame(ev);  // duplicate delivery
  CHECK(f.store->message("g1", 1)->body == "v2");
  CHECK(f.store->channel("g1")->cursor == 2);
  // a stale copy (older version) does not overwrite
  proto::MessageEvent old;
  old.change = proto::MessageChange::created;
  old.message = msg("g1", 1, 1, "bob", "v1");
  f.frame(old);
  CHECK(f.store->message("g1", 1)->body == "v2");
  CHECK(f.store->message_count() == 1);
  CHECK(f.store->channel("g1")->cursor == 2);
}

TEST_CASE("sync: `more` repeats the sync with the advanced cursors before going live") {
  CoreFixture f;
  f.options.seed = 3;
  f.open();
  auto s = f.handshake();
  proto::SyncResult r;
  r.id = s.id;
  r.more = true;
  auto cs = CoreFixture::joined("g1", {msg("g1", 1, 1, "bob", "a")}, 1);
  cs.head_version = 5;
  r.channels = {cs};
  f.frame(r);
  CHECK(f.core->state() == ConnectionState::syncing);
  auto s2 = f.last_sent<proto::Sync>();
  REQUIRE(s2);
  CHECK(s2->id != s.id);
  REQUIRE(s2->channels.size() == 1);
  CHECK(s2->channels[0].version == 1);
  proto::SyncResult r2;
  r2.id = s2->id;
  r2.channels = {delta("g1", {msg("g1", 2, 5, "bob", "b")}, 5, 2)};
  f.frame(r2);
  CHECK(f.core->state() == ConnectionState::live);
  CHECK(f.store->channel("g1")->cursor == 5);
  CHECK(f.store->message_count() == 2);
}

TEST_CASE("sync: a live event that skips a version triggers a sync and holds the cursor") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {msg("g1", 1, 1, "bob", "a")}, 1)});
  f.clear();
  proto::MessageEvent e;
  e.change = proto::MessageChange::created;
  e.message = msg("g1", 3, 3, "bob", "c");  // version 2 was lost
  f.frame(e);
  CHECK(f.store->message("g1", 3).has_value());  // applied (idempotent upsert)
  CHECK(f.store->channel("g1")->cursor == 1);    // but the cursor waits
  auto s = f.last_sent<proto::Sync>();
  REQUIRE(s);
  CHECK(s->channels[0] == proto::ChannelCursor{"g1", 1});
  // a second gap while the sync is in flight does not send a second sync
  e.message = msg("g1", 4, 4, "bob", "d");
  f.frame(e);
  CHECK(f.sent<proto::Sync>().size() == 1);
  proto::SyncResult r;
  r.id = s->id;
  r.channels = {delta("g1", {msg("g1", 2, 2, "bob", "b"), msg("g1", 3, 3, "bob", "c")}, 3, 3)};
  f.frame(r);
  // the deferred resync goes out now
  CHECK(f.sent<proto::Sync>().size() == 2);
  CHECK(f.store->channel("g1")->cursor == 3);
  CHECK(f.store->message("g1", 2)->body == "b");
}

TEST_CASE("sync: live messages update unread - mentions and the preview") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {msg("g1", 1, 1, "bob", "a")}, 1, 1)});
  CHECK(f.core->channel("g1")->unread == 0);
  proto::MessageEvent e;
  e.change = proto::MessageChange::created;
  e.message = msg("g1", 2, 2, "bob", "hey @alice");
  e.message.mentions = {"alice"};
  f.frame(e);
  auto c = f.core->channel("g1");
  CHECK(c->unread == 1);
  CHECK(c->mentions == 1);
  CHECK(c->last_message->body == "hey @alice");
  // another device of ours read it
  f.frame(proto::Receipt{"g1", "alice", 2, 2});
  c = f.core->channel("g1");
  CHECK(c->unread == 0);
  CHECK(c->mentions == 0);
  CHECK(c->read_seq == 2);
}

TEST_CASE("sync: too_far_behind keeps the newest page and records a gap that history fills") {
  CoreFixture f;
  f.go_live(
      {CoreFixture::joined("g1", {msg("g1", 1, 1, "bob", "a"), msg("g1", 2, 2, "bob", "b")}, 2)});
  // reconnect much later
  f.core->on_closed(f.conn, 1006, "");
  auto s = std::optional<proto::Sync>(f.rehandshake());
  proto::ChannelSync cs;
  cs.channel = "g1";
  cs.status = proto::SyncStatus::too_far_behind;
  cs.info = info("g1", 2000, 3000);
  for (Seq q = 1951; q <= 2000; ++q)
    cs.messages.push_back(msg("g1", q, 1000 + q, "bob", "m"));
  cs.version = 3000;
  cs.head_version = 3000;
  cs.last_seq = 2000;
  cs.read_seq = 2;
  cs.unread = 1998;
  proto::SyncResult r;
  r.id = s->id;
  r.channels = {cs};
  f.frame(r);
  auto gaps = f.store->gaps("g1");
  REQUIRE(gaps.size() == 1);
  CHECK(gaps[0].from == 3);
  CHECK(gaps[0].to == 1950);
  CHECK(f.core->channel("g1")->unread == 1998);
  // the timeline shows the newest page only (not across the hole)
  REQUIRE(f.core->open_timeline("g1").ok());
  auto tl = f.core->timeline("g1");
  REQUIRE(tl.size() == 50);
  CHECK(tl.front().message.seq == 1951);
  // scrolling back asks the server for the hole
  f.clear();
  REQUIRE(f.core->load_older("g1").ok());
  auto h = f.last_sent<proto::History>();
  REQUIRE(h);
  CHECK(h->before == 1951);
  proto::HistoryPage page;
  page.id = h->id;
  page.channel = "g1";
  for (Seq q = 1901; q <= 1950; ++q)
    page.messages.push_back(msg("g1", q, 900 + q, "bob", "old"));
  page.more_before = true;
  f.frame(page);
  gaps = f.store->gaps("g1");
  REQUIRE(gaps.size() == 1);
  CHECK(gaps[0].to == 1900);
  CHECK(f.core->timeline("g1").size() == 100);
  CHECK(f.events_of<HistoryLoaded>().back().count == 50);
}

TEST_CASE("sync: removed channels disappear and their queued ops fail permanently") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {}, 1)});
  f.core->disconnect();
  auto op = f.core->send_text("g1", "pending");
  REQUIRE(op.ok());
  f.core->connect();
  f.pump();
  f.core->on_open(f.conn);
  proto::Welcome w;
  w.user = "alice";
  w.session = "s2";
  w.protocol = 1;
  w.heartbeat_ms = 10'000;
  f.frame(w);
  auto s = f.last_sent<proto::Sync>();
  proto::ChannelSync cs;
  cs.channel = "g1";
  cs.status = proto::SyncStatus::removed;
  proto::SyncResult r;
  r.id = s->id;
  r.channels = {cs};
  f.frame(r);
  CHECK_FALSE(f.core->channel("g1").has_value());
  auto o = f.core->op(*op);
  REQUIRE(o);
  CHECK(o->state == OpState::failed);
  CHECK(o->failure->code == Errc::not_member);
  CHECK_FALSE(o->failure->retryable);
}

TEST_CASE("sync: channel_added leads to a sync that lists only known channels") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {}, 1)});
  f.clear();
  f.frame(proto::ChannelAdded{info("g2", 0, 1)});
  auto s = f.last_sent<proto::Sync>();
  REQUIRE(s);
  REQUIRE(s->channels.size() == 1);  // g2 left out -> server answers `joined`
  CHECK(s->channels[0].channel == "g1");
  CHECK(f.core->channel("g2").has_value());
}

TEST_CASE("receipts: delivered cursors are acked in one batch") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {msg("g1", 1, 1, "bob", "a")}, 1),
             CoreFixture::joined("g2", {msg("g2", 1, 1, "bob", "a")}, 1)});
  f.clear();
  proto::MessageEvent e;
  e.message = msg("g1", 2, 2, "bob", "b");
  f.frame(e);
  e.message = msg("g2", 2, 2, "bob", "b");
  f.frame(e);
  f.run_for(1'000);
  auto md = f.sent<proto::MarkDelivered>();
  REQUIRE(md.size() == 1);
  CHECK(md[0].cursors.size() == 2);
  f.run_for(5'000);
  CHECK(f.sent<proto::MarkDelivered>().size() == 1);  // nothing new: nothing sent
}
