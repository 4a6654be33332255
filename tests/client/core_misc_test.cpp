// Smaller core paths: optimistic overlays, membership and channel events,
// presence/profiles, history errors, op pruning.
#include <unistd.h>

#include <filesystem>

#include "client/core/list_diff.hpp"
#include "core_fixture.hpp"

using namespace chatsdk;
using namespace chatsdk::client;
using namespace chatsdk::client::test;

TEST_CASE("timeline: pending edits - deletes and reactions show at once (offline too)") {
  CoreFixture f;
  f.go_live({CoreFixture::joined(
      "g1", {msg("g1", 1, 1, "alice", "orig", "cid-1"), msg("g1", 2, 2, "bob", "bob's")}, 2)});
  REQUIRE(f.core->open_timeline("g1").ok());
  f.core->disconnect();
  REQUIRE(f.core->edit(MessageRef{"g1", 1, {}}, "edited").ok());
  REQUIRE(f.core->react(MessageRef{"g1", 2, {}}, "ok", true).ok());
  auto tl = f.core->timeline("g1");
  REQUIRE(tl.size() == 2);
  CHECK(tl[0].message.body == "edited");
  REQUIRE(tl[1].message.reactions.size() == 1);
  CHECK(tl[1].message.reactions[0].mine);
  auto del = f.core->remove(MessageRef{"g1", 2, {}});
  REQUIRE(del.ok());
  tl = f.core->timeline("g1");
  CHECK(tl[1].message.deleted);
  CHECK(tl[1].message.body.empty());
  REQUIRE(f.core->cancel(*del).ok());
  CHECK_FALSE(f.core->timeline("g1")[1].message.deleted);
  // the store is untouched until the server answers
  CHECK(f.store->message("g1", 1)->body == "orig");
}

TEST_CASE("members: events update the member list - count - role, removal of self drops the channel") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {}, 1)});
  proto::MemberEvent e;
  e.channel = "g1";
  e.version = 2;
  e.change = proto::MemberChange::added;
  e.user = "carol";
  e.member_count = 3;
  f.frame(e);
  auto members = f.core->members("g1");
  REQUIRE(members.size() == 1);
  CHECK(members[0].user == "carol");
  CHECK(f.core->channel("g1")->member_count == 3);
  CHECK(f.store->channel("g1")->cursor == 2);
  e.version = 3;
  e.change = proto::MemberChange::role;
  e.user = "alice";
  e.role = proto::Role::moderator;
  f.frame(e);
  CHECK(f.core->channel("g1")->role == Role::moderator);
  e.version = 4;
  e.change = proto::MemberChange::removed;
  f.frame(e);
  CHECK_FALSE(f.core->channel("g1").has_value());
}

TEST_CASE("channels: channel_updated applies new info and moves the cursor") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {}, 1)});
  auto i = info("g1", 0, 2);
  i.name = "Renamed";
  f.frame(proto::ChannelUpdated{i});
  CHECK(f.core->channel("g1")->name == "Renamed");
  CHECK(f.store->channel("g1")->cursor == 2);
  std::vector<ChannelItem> mirror;
  for (auto& d : f.events_of<ChannelListDiff>())
    apply_diff(mirror, d.ops);
  REQUIRE(mirror.size() == 1);
  CHECK(mirror[0].channel.name == "Renamed");
}

TEST_CASE("presence and profiles: need a live connection - answers become events") {
  CoreFixture f;
  CHECK(f.core->query_presence({"bob"}).code() == Errc::not_connected);
  f.go_live();
  REQUIRE(f.core->query_presence({"bob"}).ok());
  auto q = f.last_sent<proto::PresenceQuery>();
  REQUIRE(q);
  proto::PresenceList pl;
  pl.id = q->id;
  pl.users = {proto::PresenceInfo{"bob", true, 0}};
  f.frame(pl);
  f.frame(proto::PresenceEvent{"bob", false, 1234});
  auto ev = f.events_of<PresenceChanged>();
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].presence.online);
  CHECK(ev[1].presence.last_seen == 1234);
  REQUIRE(f.core->fetch_profiles({"bob"}).ok());
  auto pg = f.last_sent<proto::ProfilesGet>();
  proto::Profiles pr;
  pr.id = pg->id;
  proto::UserProfile up;
  up.user = "bob";
  up.display_name = "Bob";
  pr.users = {up};
  f.frame(pr);
  CHECK(f.events_of<ProfilesReceived>().back().users[0].display_name == "Bob");
  CHECK(f.store->profile("bob")->display_name == "Bob");
  REQUIRE(f.core->set_profile(std::string("Alice A."), std::nullopt).ok());
  auto ps = f.last_sent<proto::ProfileSet>();
  REQUIRE(ps);
  CHECK(ps->display_name == std::optional<std::string>("Alice A."));
  CHECK_FALSE(ps->avatar_url.has_value());
}

TEST_CASE("history: a failed request becomes an ErrorEvent - offline load_older is not_connected") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {msg("g1", 60, 1, "bob", "x")}, 1)});
  REQUIRE(f.core->open_timeline("g1").ok());
  REQUIRE(f.core->load_older("g1").ok());
  auto h = f.last_sent<proto::History>();
  REQUIRE(h);
  CHECK(h->before == 60);
  proto::ErrorFrame e;
  e.id = h->id;
  e.code = "rate_limited";
  f.frame(e);
  CHECK(f.events_of<ErrorEvent>().back().code == Errc::rate_limited);
  f.core->disconnect();
  CHECK(f.core->load_older("g1").code() == Errc::not_connected);
  CHECK(f.core->load_older("nope").code() == Errc::invalid_state);
}

TEST_CASE("sync: a message for an unknown channel triggers a sync") {
  CoreFixture f;
  f.go_live();
  f.clear();
  proto::MessageEvent e;
  e.message = msg("new", 1, 1, "bob", "hi");
  f.frame(e);
  CHECK(f.sent<proto::Sync>().size() == 1);
  CHECK_FALSE(f.store->message("new", 1).has_value());
}

TEST_CASE("outbox: finished ops are pruned on start - unfinished never") {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("chatsdk_prune_" + std::to_string(::getpid()) + ".db"))
                         .string();
  std::filesystem::remove(path);
  {
    auto s = Store::open(path);
    REQUIRE(s.ok());
    for (int i = 0; i < 1500; ++i) {
      OpRow r;
      r.op.kind = OpKind::mark_read;
      r.op.state = OpState::sent;
      r.op.channel = "g1";
      r.op.client_id = "done" + std::to_string(i);
      REQUIRE((*s)->insert_op(r).ok());
    }
    OpRow q;
    q.op.kind = OpKind::send;
    q.op.state = OpState::failed;
    q.op.failure = OpFailure{Errc::not_member, false, "x"};
    q.op.channel = "g1";
    q.op.client_id = "stuck";
    REQUIRE((*s)->insert_op(q).ok());
  }
  CoreFixture f(path);
  CHECK(f.store->op_count() == 1001);
  auto pending = f.core->pending_ops();
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].client_id == "stuck");
  CHECK(pending[0].failure->code == Errc::not_member);
  std::filesystem::remove(path);
}

TEST_CASE("outbox: a body over the server's announced limit is refused before queueing") {
  CoreFixture f;
  CHECK(f.core->send_text("g1", std::string(17 * 1024, 'x')).code() == Errc::body_too_large);
  f.max_body = 1000;
  f.go_live();  // welcome announces max_body_bytes = 1000
  CHECK(f.core->send_text("g1", std::string(1001, 'x')).code() == Errc::body_too_large);
  CHECK(f.core->send_text("g1", std::string(1000, 'x')).ok());
  CHECK(f.store->op_count() == 1);
}

TEST_CASE("outbox: a resent unnamed channel_create answered already_applied learns its channel") {
  CoreFixture f;
  f.go_live();
  auto c = f.core->create_group("", "Unnamed", {"bob"});
  REQUIRE(c.ok());
  auto cc = f.last_sent<proto::ChannelCreate>();
  REQUIRE(cc);
  CHECK(cc->channel.empty());
  proto::AlreadyApplied aa;
  aa.id = cc->id;
  aa.channel = "srv-42";
  aa.client_id = cc->client_id;
  aa.version = 1;
  f.clear();
  f.frame(aa);
  auto op = f.core->op(*c);
  CHECK(op->state == OpState::sent);
  CHECK(op->channel == "srv-42");
  CHECK(f.sent<proto::Sync>().size() == 1);  // fetch the channel it created
}

TEST_CASE("reactions: `mine` survives events from others and follows our other devices") {
  CoreFixture f;
  auto m1 = msg("g1", 1, 1, "bob", "hi");
  m1.reactions = {proto::Reaction{"ok", 1, true}};  // sync carries our `mine`
  f.go_live({CoreFixture::joined("g1", {m1}, 1)});
  proto::MessageEvent e;
  e.change = proto::MessageChange::reaction;
  e.actor = "carol";
  e.emoji = "ok";
  e.action = proto::ReactAction::add;
  e.message = msg("g1", 1, 2, "bob", "hi");
  e.message.reactions = {proto::Reaction{"ok", 2, false}};  // events: counts only
  f.frame(e);
  auto r = f.store->message("g1", 1)->reactions;
  REQUIRE(r.size() == 1);
  CHECK(r[0].count == 2);
  CHECK(r[0].mine);   // still ours
  e.actor = "alice";  // our other device adds another emoji
  e.emoji = "wow";
  e.message.version = 3;
  e.message.reactions = {proto::Reaction{"ok", 2, false}, proto::Reaction{"wow", 1, false}};
  f.frame(e);
  r = f.store->message("g1", 1)->reactions;
  REQUIRE(r.size() == 2);
  CHECK(r[0].mine);
  CHECK(r[1].mine);
}

TEST_CASE("outbox: metadata over the announced limit is refused before queueing") {
  CoreFixture f;
  CHECK(
      f.core->send_text("g1", "x", SendOptions{0, {}, "{\"a\":\"" + std::string(5000, 'y') + "\"}"})
          .code() == Errc::body_too_large);
  CHECK(f.store->op_count() == 0);
}
