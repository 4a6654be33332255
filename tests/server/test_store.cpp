// SQLite store: mutations (seq/version assignment, idempotency, permissions,
// reactions, replies, channels and membership) against a real database file.
#include <algorithm>

#include "test_store_fixture.hpp"

namespace chatsdk::server::store::test {
namespace {

using proto::ReactAction;

TEST_CASE("store: seq is gapless and per channel, versions count every change") {
  StoreFixture f;
  f.open();
  REQUIRE(f.create("alice", "a", {"bob"}).ok());
  REQUIRE(f.create("alice", "b", {}).ok());
  for (int i = 1; i <= 20; ++i) {
    auto ra = f.send("alice", "a", "hello " + std::to_string(i));
    REQUIRE(ra.ok());
    CHECK(ra.seq == static_cast<Seq>(i));
    CHECK(ra.version == static_cast<Version>(i + 1));  // creation was version 1
    REQUIRE(ra.messages.size() == 1);
    CHECK(ra.messages[0].body == "hello " + std::to_string(i));
    CHECK(ra.messages[0].sender == "alice");
    CHECK(ra.messages[0].version == ra.version);
    if (i % 2 == 0) {
      auto rb = f.send("alice", "b", "x");
      REQUIRE(rb.ok());
      CHECK(rb.seq == static_cast<Seq>(i / 2));
    }
  }
  auto page = f.history("alice", "a", 0, 0, 500);
  REQUIRE(page.messages.size() == 20);
  for (std::size_t i = 0; i < 20; ++i)
    CHECK(page.messages[i].seq == i + 1);
  CHECK(f.send("carol", "a", "hi").error.code == Errc::not_member);
  CHECK(f.send("alice", "nope", "hi").error.code == Errc::not_found);
  f.config.max_body_bytes = 8;
  f.close();
  f.open();
  CHECK(f.send("alice", "a", "123456789").error.code == Errc::body_too_large);
  auto next = f.send("alice", "a", "ok");  // failures consumed no seq
  CHECK(next.seq == 21);
}

TEST_CASE("store: a resend with the same client_id is already_applied with the original result") {
  StoreFixture f;
  f.open();
  REQUIRE(f.create("alice", "a", {"bob"}).ok());
  auto first = f.send("alice", "a", "once", "cid-1");
  REQUIRE(first.ok());
  CHECK_FALSE(first.already_applied);
  f.send("bob", "a", "between");
  auto again = f.send("alice", "a", "once (resent)", "cid-1");
  REQUIRE(again.ok());
  CHECK(again.already_applied);
  CHECK(again.channel == "a");
  CHECK(again.seq == first.seq);
  CHECK(again.version == first.version);
  CHECK(again.created_at == first.created_at);
  CHECK(again.messages.empty());
  // The same key from another user is a different op.
  auto bob = f.send("bob", "a", "mine", "cid-1");
  CHECK_FALSE(bob.already_applied);
  auto page = f.history("alice", "a");
  REQUIRE(page.messages.size() == 3);
  CHECK(page.messages[0].body == "once");
  CHECK(page.messages[0].client_id == "cid-1");

  // Non-send mutations dedupe too: a replayed edit changes nothing.
  EditOp edit{"alice", "a", "edit-1", "edited", first.seq, {}, kNow};
  auto e1 = f.write(edit);
  REQUIRE(e1.ok());
  auto e2 = f.write(EditOp{"alice", "a", "edit-1", "edited twice", first.seq, {}, kNow});
  CHECK(e2.already_applied);
  CHECK(e2.version == e1.version);
  CHECK(f.history("alice", "a").messages[0].body == "edited");
  // ...also across a restart.
  f.close();
  f.open();
  CHECK(f.send("alice", "a", "once", "cid-1").already_applied);
  CHECK(f.write(EditOp{"alice", "a", "edit-1", "x", first.seq, {}, kNow}).already_applied);
}

TEST_CASE("store: resends queued among new sends are answered and leave no seq hole") {
  StoreFixture f;
  f.open();
  REQUIRE(f.create("alice", "a", {"bob"}).ok());
  const auto first = f.send("alice", "a", "one", "k1");
  REQUIRE(first.ok());
  // Queued together so they usually share one transaction: the resends are
  // found by the insert's unique-key failure, which must not fail the batch.
  auto make = [](const std::string& user, const std::string& key, const std::string& body) {
    SendOp op;
    op.user = user;
    op.channel = "a";
    op.client_id = key;
    op.body = body;
    op.now = kNow;
    return op;
  };
  std::vector<std::optional<WriteResult>> out(4);
  const std::vector<SendOp> ops{make("alice", "k1", "one again"), make("bob", "k2", "two"),
                                make("alice", "k1", "one yet again"), make("alice", "k3", "three")};
  for (std::size_t i = 0; i < ops.size(); ++i) {
    f.store->write(ops[i], [&out, i](WriteResult r) { out[i] = std::move(r); });
  }
  REQUIRE(f.poster.pump_until([&] { return out[3].has_value() && out[2].has_value(); }));
  REQUIRE(out[0]->ok());
  CHECK(out[0]->already_applied);
  CHECK(out[0]->seq == first.seq);
  CHECK(out[2]->already_applied);
  CHECK(out[2]->seq == first.seq);
  REQUIRE(out[1]->ok());
  CHECK_FALSE(out[1]->already_applied);
  CHECK(out[1]->seq == first.seq + 1);
  REQUIRE(out[3]->ok());
  CHECK(out[3]->seq == first.seq + 2);  // the resends consumed no seq
  const auto page = f.history("alice", "a");
  REQUIRE(page.messages.size() == 3);
  CHECK(page.messages[0].body == "one");

  // A resend still answers after its sender left; a new send does not.
  REQUIRE(f.remove("alice", "a", {"alice"}).ok());
  const auto late = f.send("alice", "a", "one", "k1");
  CHECK(late.already_applied);
  CHECK(late.seq == first.seq);
  CHECK(f.send("alice", "a", "new", "k9").error.code == Errc::not_member);
  // ...and membership checks see the removal (not a stale cached "member").
  CHECK(f.send("bob", "a", "still here").ok());
}

TEST_CASE("store: edit and delete check permissions and bump versions") {
  StoreFixture f;
  f.open();
  REQUIRE(f.create("alice", "a", {"bob", "mod"}).ok());
  REQUIRE(f.set_role("alice", "a", "mod", Role::moderator).ok());
  auto m = f.send("bob", "a", "original");
  auto m2 = f.send("bob", "a", "second");

  CHECK(f.write(EditOp{"alice", "a", f.cid(), "hijack", m.seq, {}, kNow}).error.code ==
        Errc::permission_denied);
  CHECK(f.write(EditOp{"carol", "a", f.cid(), "x", m.seq, {}, kNow}).error.code ==
        Errc::not_member);
  CHECK(f.write(EditOp{"bob", "a", f.cid(), "x", 99, {}, kNow}).error.code == Errc::not_found);
  auto e = f.write(EditOp{"bob", "a", f.cid(), "fixed", m.seq, {R"({"k":1})"}, kNow + 5});
  REQUIRE(e.ok());
  CHECK(e.version == m2.version + 1);
  REQUIRE(e.messages.size() == 1);
  CHECK(e.messages[0].body == "fixed");
  CHECK(e.messages[0].edited_at == kNow + 5);
  CHECK(e.messages[0].metadata.json == R"({"k":1})");
  CHECK(e.messages[0].version == e.version);

  // A plain member cannot delete someone else's message; a moderator can.
  auto other = f.send("alice", "a", "alice's");
  CHECK(f.write(DeleteOp{"bob", "a", f.cid(), other.seq, false, kNow}).error.code ==
        Errc::permission_denied);
  auto d = f.write(DeleteOp{"mod", "a", f.cid(), m.seq, false, kNow});
  REQUIRE(d.ok());
  CHECK(d.version == other.version + 1);
  REQUIRE(d.messages.size() == 1);
  CHECK(d.messages[0].deleted);
  CHECK(d.messages[0].body.empty());
  CHECK(d.messages[0].metadata.empty());
  // Deleting again: ok, no change.
  auto d2 = f.write(DeleteOp{"bob", "a", f.cid(), m.seq, false, kNow});
  REQUIRE(d2.ok());
  CHECK(d2.version == 0);  // nothing changed: no version
  CHECK(d2.messages.empty());
  CHECK(f.write(EditOp{"bob", "a", f.cid(), "again", m.seq, {}, kNow}).error.code ==
        Errc::message_deleted);
  CHECK(f.react("bob", "a", m.seq, "👍").error.code == Errc::message_deleted);
  // The sender deletes their own; the admin API deletes anything.
  CHECK(f.write(DeleteOp{"bob", "a", f.cid(), m2.seq, false, kNow}).ok());
  CHECK(f.write(DeleteOp{"", "a", "", other.seq, true, kNow}).ok());
  auto page = f.history("bob", "a");
  REQUIRE(page.messages.size() == 3);  // tombstones stay in history
  for (const auto& msg : page.messages)
    CHECK(msg.deleted);
}

TEST_CASE("store: reactions count per emoji, no-ops assign no version, at most 32 emoji") {
  StoreFixture f;
  f.open();
  REQUIRE(f.create("alice", "a", {"bob"}).ok());
  auto m = f.send("alice", "a", "react to me");
  auto r1 = f.react("alice", "a", m.seq, "👍");
  REQUIRE(r1.ok());
  CHECK(r1.version == m.version + 1);
  auto r2 = f.react("bob", "a", m.seq, "👍");
  auto r3 = f.react("bob", "a", m.seq, "🎉");
  REQUIRE(r3.messages.size() == 1);
  const auto& rs = r3.messages[0].reactions;
  REQUIRE(rs.size() == 2);
  CHECK(rs[0].emoji == "👍");
  CHECK(rs[0].count == 2);
  CHECK(rs[1].emoji == "🎉");
  CHECK(rs[1].count == 1);
  CHECK_FALSE(rs[0].mine);  // write results never carry `mine`

  auto again = f.react("bob", "a", m.seq, "👍");  // already there: no change
  REQUIRE(again.ok());
  CHECK(again.version == 0);
  CHECK(again.messages.empty());
  auto missing = f.react("alice", "a", m.seq, "🎉", ReactAction::remove);
  CHECK(missing.ok());
  CHECK(missing.version == 0);

  auto rm = f.react("alice", "a", m.seq, "👍", ReactAction::remove);
  REQUIRE(rm.ok());
  CHECK(rm.version == r3.version + 1);
  CHECK(rm.messages[0].reactions[0].count == 1);

  // `mine` is per user in history.
  auto page = f.history("bob", "a");
  REQUIRE(page.messages[0].reactions.size() == 2);
  CHECK(page.messages[0].reactions[0].mine);
  CHECK(page.messages[0].reactions[1].mine);
  auto alice_page = f.history("alice", "a");
  CHECK_FALSE(alice_page.messages[0].reactions[0].mine);

  for (int i = 0; i < 30; ++i)
    REQUIRE(f.react("alice", "a", m.seq, "e" + std::to_string(i)).ok());
  CHECK(f.react("alice", "a", m.seq, "one-too-many").error.code == Errc::limit_exceeded);
  CHECK(f.react("bob", "a", m.seq, "e3").ok());  // an existing emoji is still fine
  CHECK(f.react("carol", "a", m.seq, "👍").error.code == Errc::not_member);
  CHECK(f.react("bob", "a", 42, "👍").error.code == Errc::not_found);
  (void)r2;
}

TEST_CASE("store: a reply bumps the parent's reply_count as a second change") {
  StoreFixture f;
  f.open();
  REQUIRE(f.create("alice", "a", {"bob"}).ok());
  auto parent = f.send("alice", "a", "question");
  auto reply = f.send("bob", "a", "answer", "", parent.seq);
  REQUIRE(reply.ok());
  REQUIRE(reply.messages.size() == 2);
  CHECK(reply.messages[0].seq == parent.seq + 1);
  CHECK(reply.messages[0].reply_to == parent.seq);
  CHECK(reply.messages[0].version == parent.version + 1);
  CHECK(reply.messages[1].seq == parent.seq);
  CHECK(reply.messages[1].reply_count == 1);
  CHECK(reply.messages[1].version == parent.version + 2);
  CHECK(reply.version == parent.version + 2);
  auto reply2 = f.send("alice", "a", "more", "", parent.seq);
  CHECK(reply2.messages[1].reply_count == 2);
  CHECK(f.send("bob", "a", "orphan", "", 77).error.code == Errc::not_found);
  auto page = f.history("alice", "a");
  CHECK(page.messages[0].reply_count == 2);
}

TEST_CASE("store: channel creation, direct channels and membership rules") {
  StoreFixture f;
  f.config.max_members = 5;
  f.open();
  auto c = f.create("alice", "team", {"bob"});
  REQUIRE(c.ok());
  CHECK(c.channel == "team");
  CHECK(c.version == 1);
  REQUIRE(c.channel_state);
  CHECK(c.channel_state->info.created_by == "alice");
  REQUIRE(c.channel_state->members.size() == 2);
  CHECK(c.channel_state->members[0].user == "alice");
  CHECK(c.channel_state->members[0].role == Role::owner);
  CHECK(c.channel_state->members[1].role == Role::member);
  CHECK(f.create("bob", "team", {}).error.code == Errc::already_exists);

  auto gen = f.create("alice", "", {});
  REQUIRE(gen.ok());
  CHECK(gen.channel.rfind("g:", 0) == 0);

  // Direct: id derived from the sorted pair; creating it again returns it.
  auto dm = f.create("zed", "", {"amy"}, ChannelKind::direct);
  REQUIRE(dm.ok());
  CHECK(dm.channel == "dm:amy:zed");
  auto dm2 = f.create("amy", "whatever", {"zed"}, ChannelKind::direct);
  REQUIRE(dm2.ok());
  CHECK(dm2.channel == "dm:amy:zed");
  CHECK(dm2.version == dm.version);
  CHECK(f.add("amy", "dm:amy:zed", {"bob"}).error.code == Errc::permission_denied);
  CHECK(f.remove("amy", "dm:amy:zed", {"zed"}).error.code == Errc::permission_denied);
  CHECK(f.create("amy", "", {}, ChannelKind::direct).error.code == Errc::invalid_argument);

  // members_add: owner/moderator only; re-adding is a no-op.
  CHECK(f.add("bob", "team", {"carol"}).error.code == Errc::permission_denied);
  CHECK(f.add("mallory", "team", {"carol"}).error.code == Errc::not_member);
  auto added = f.add("alice", "team", {"carol", "dave"});
  REQUIRE(added.ok());
  REQUIRE(added.member_changes.size() == 2);
  CHECK(added.member_changes[0].version == 2);
  CHECK(added.member_changes[1].version == 3);
  CHECK(added.version == 3);
  CHECK(added.channel_state->info.member_count == 4);
  auto readd = f.add("alice", "team", {"carol"});
  REQUIRE(readd.ok());
  CHECK(readd.member_changes.empty());
  CHECK(readd.version == 0);  // a no-op assigns no version
  CHECK(f.add("alice", "team", {"e1", "e2"}).error.code == Errc::limit_exceeded);  // 4+2 > 5

  // member_role: owner only.
  CHECK(f.set_role("bob", "team", "carol", Role::moderator).error.code == Errc::permission_denied);
  auto role = f.set_role("alice", "team", "carol", Role::moderator);
  REQUIRE(role.ok());
  CHECK(role.version == 4);
  CHECK(f.set_role("alice", "team", "carol", Role::moderator).version == 0);  // no change
  CHECK(f.set_role("alice", "team", "ghost", Role::member).error.code == Errc::not_member);

  // members_remove: a moderator removes members but not owners; anyone leaves.
  CHECK(f.remove("carol", "team", {"alice"}).error.code == Errc::permission_denied);
  CHECK(f.remove("bob", "team", {"dave"}).error.code == Errc::permission_denied);
  auto kicked = f.remove("carol", "team", {"dave"});
  REQUIRE(kicked.ok());
  REQUIRE(kicked.member_changes.size() == 1);
  CHECK(kicked.member_changes[0].change == proto::MemberChange::removed);
  CHECK(kicked.channel_state->info.member_count == 3);
  auto left = f.remove("bob", "team", {"bob"});
  REQUIRE(left.ok());
  CHECK(f.send("bob", "team", "still here?").error.code == Errc::not_member);
  CHECK(f.remove("alice", "team", {"bob"}).member_changes.empty());  // already gone

  // join: public channels only, idempotent.
  REQUIRE(f.create("alice", "lobby", {}, ChannelKind::group, true).ok());
  AddMembersOp join;
  join.user = "walker";
  join.channel = "lobby";
  join.join = true;
  auto j = f.write(join);
  REQUIRE(j.ok());
  CHECK(j.member_changes.size() == 1);
  auto j2 = f.write(join);
  REQUIRE(j2.ok());
  CHECK(j2.member_changes.empty());
  CHECK(j2.version == 0);  // already a member: nothing changed
  join.channel = "team";
  CHECK(f.write(join).error.code == Errc::permission_denied);
  join.channel = "nowhere";
  CHECK(f.write(join).error.code == Errc::not_found);

  // channel_update: owner/moderator; unchanged values are a no-op.
  UpdateChannelOp up;
  up.user = "alice";
  up.channel = "team";
  up.client_id = f.cid();
  up.name = "The Team";
  auto u = f.write(up);
  REQUIRE(u.ok());
  CHECK(u.channel_state->info.name == "The Team");
  const Version after_update = u.version;
  up.client_id = f.cid();
  CHECK(after_update > 0);
  CHECK(f.write(up).version == 0);  // unchanged values: a no-op
  up.user = "walker";
  up.client_id = f.cid();
  CHECK(f.write(up).error.code == Errc::not_member);

  // load(): every channel with its current members, as the engine caches them.
  f.close();
  f.open();
  auto state = f.store->load();
  REQUIRE(state.ok());
  const ChannelRecord* team = nullptr;
  for (const auto& ch : state->channels) {
    if (ch.info.channel == "team") team = &ch;
  }
  REQUIRE(team != nullptr);
  CHECK(team->info.name == "The Team");
  CHECK(team->info.member_count == 2);
  CHECK(team->info.version == after_update);
  REQUIRE(team->members.size() == 2);
  CHECK(team->members[0].user == "alice");
  CHECK(team->members[1].user == "carol");
  CHECK(team->members[1].role == Role::moderator);
  CHECK(state->channels.size() == 4);
}

TEST_CASE("store: profiles, last_seen, member pages and the admin channel list") {
  StoreFixture f;
  f.open();
  SetProfileOp p;
  p.user = "alice";
  p.display_name = "Alice";
  p.now = kNow;
  auto r = f.write(p);
  REQUIRE(r.profile);
  CHECK(r.profile->display_name == "Alice");
  SetProfileOp p2;
  p2.user = "alice";
  p2.avatar_url = "https://x/a.png";
  p2.now = kNow + 1;
  auto r2 = f.write(p2);
  CHECK(r2.profile->display_name == "Alice");  // unchanged fields kept
  CHECK(r2.profile->avatar_url == "https://x/a.png");
  REQUIRE(f.write(LastSeenOp{"alice", kNow + 100}).ok());
  REQUIRE(f.write(LastSeenOp{"alice", kNow + 50}).ok());  // never backwards

  auto profiles = f.read<proto::Profiles>(ProfilesQuery{{"alice", "nobody", "alice"}});
  REQUIRE(profiles.users.size() == 2);
  CHECK(profiles.users[0].display_name == "Alice");
  CHECK(profiles.users[0].updated_at == kNow + 1);
  CHECK(profiles.users[1].user == "nobody");
  auto seen = f.read<proto::PresenceList>(LastSeenQuery{{"alice", "nobody"}});
  REQUIRE(seen.users.size() == 2);
  CHECK(seen.users[0].last_seen == kNow + 100);
  CHECK_FALSE(seen.users[0].online);
  CHECK(seen.users[1].last_seen == 0);

  std::vector<std::string> many;
  for (int i = 0; i < 25; ++i)
    many.push_back("u" + std::to_string(100 + i));
  REQUIRE(f.create("alice", "big", many).ok());
  auto page1 = f.read<proto::MembersPage>(MembersQuery{"big", "", 10});
  REQUIRE(page1.members.size() == 10);
  CHECK(page1.more);
  CHECK(page1.members[0].user == "alice");
  auto page2 = f.read<proto::MembersPage>(MembersQuery{"big", page1.members.back().user, 100});
  CHECK(page2.members.size() == 16);
  CHECK_FALSE(page2.more);
  CHECK(f.read_raw(MembersQuery{"none", "", 10}).code() == Errc::not_found);

  REQUIRE(f.create("alice", "aaa", {}).ok());
  auto list = f.read<std::vector<proto::ChannelInfo>>(ChannelsQuery{"", 1});
  REQUIRE(list.size() == 1);
  CHECK(list[0].channel == "aaa");
  auto rest = f.read<std::vector<proto::ChannelInfo>>(ChannelsQuery{"aaa", 100});
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].channel == "big");
  CHECK(rest[0].member_count == 26);
}

TEST_CASE("store: large channels keep membership out of the change stream") {
  StoreFixture f;
  f.open();
  REQUIRE(f.create("host", "town", {}, ChannelKind::large, true).ok());
  auto before = f.send("host", "town", "welcome");
  REQUIRE(before.ok());
  AddMembersOp join;
  join.channel = "town";
  join.join = true;
  for (int i = 0; i < 50; ++i) {
    join.user = "u" + std::to_string(i);
    auto j = f.write(join);
    REQUIRE(j.ok());
    CHECK(j.member_changes.size() == 1);
    CHECK(j.version == 0);  // no version assigned: members follow counts only
    REQUIRE(j.channel_state.has_value());
    CHECK(j.channel_state->members.empty());  // O(1) result, not O(members)
    CHECK(j.channel_state->info.member_count == static_cast<std::uint32_t>(i + 2));
  }
  // Messages still advance the version by exactly one each.
  auto after = f.send("host", "town", "hello all");
  REQUIRE(after.ok());
  CHECK(after.version == before.version + 1);
  // A member who syncs from the last message sees no membership noise.
  auto sync = f.sync_one("u7", {{"town", before.version}}, "town");
  CHECK(sync.status == proto::SyncStatus::delta);
  REQUIRE(sync.messages.size() == 1);
  CHECK(sync.messages[0].seq == after.seq);
}

}  // namespace
}  // namespace chatsdk::server::store::test
