// SQLite store: sync (delta / too_far_behind / joined / removed, paging),
// keyset history, unread and mention arithmetic, receipt cursors.
#include <map>
#include <random>
#include <set>

#include "test_store_fixture.hpp"

namespace chatsdk::server::store::test {
namespace {

using proto::SyncStatus;

TEST_CASE("store: sync reports joined, delta, removed and pages with more") {
  StoreFixture f;
  f.config.sync_channel_max = 5;
  f.config.too_far_behind = 20;
  f.open();
  REQUIRE(f.create("alice", "c1", {"bob"}).ok());
  REQUIRE(f.create("alice", "c2", {"bob"}).ok());
  REQUIRE(f.create("alice", "c3", {}).ok());
  f.send("alice", "c1", "one");

  // First sync: every channel is new to the client.
  auto s0 = f.sync("bob", {});
  CHECK_FALSE(s0.more);
  REQUIRE(s0.channels.size() == 2);
  const auto* j1 = find_channel(s0, "c1");
  REQUIRE(j1 != nullptr);
  CHECK(j1->status == SyncStatus::joined);
  REQUIRE(j1->info);
  CHECK(j1->info->role == Role::member);
  CHECK(j1->messages.size() == 1);
  CHECK(j1->members.size() == 2);
  CHECK(j1->version == 2);
  CHECK(j1->head_version == 2);
  CHECK(j1->last_seq == 1);
  CHECK(find_channel(s0, "c3") == nullptr);

  // Up to date: a delta with nothing in it, still carrying counts.
  auto s1 = f.sync("bob", {{"c1", 2}, {"c2", 1}});
  REQUIRE(s1.channels.size() == 2);
  CHECK(s1.channels[0].status == SyncStatus::delta);
  CHECK(s1.channels[0].messages.empty());
  CHECK(s1.channels[0].unread == 1);

  // Changes after the cursor, in version order, full current state.
  auto m2 = f.send("alice", "c1", "two");
  auto m3 = f.send("alice", "c1", "three");
  REQUIRE(f.write(EditOp{"alice", "c1", f.cid(), "ONE", 1, {}, kNow}).ok());
  auto s2 = f.sync("bob", {{"c1", 2}});
  const auto* d = find_channel(s2, "c1");
  REQUIRE(d != nullptr);
  CHECK(d->status == SyncStatus::delta);
  REQUIRE(d->messages.size() == 3);
  CHECK(d->messages[0].seq == 2);
  CHECK(d->messages[1].seq == 3);
  CHECK(d->messages[2].seq == 1);
  CHECK(d->messages[2].body == "ONE");
  CHECK(d->version == 5);
  CHECK(d->head_version == 5);
  CHECK_FALSE(s2.more);
  // c2 was not listed: joined.
  CHECK(find_channel(s2, "c2")->status == SyncStatus::joined);

  // More changes than the per-channel limit: paged, cursor = last covered.
  for (int i = 0; i < 7; ++i)
    f.send("alice", "c1", "p" + std::to_string(i));
  auto s3 = f.sync("bob", {{"c1", 5}, {"c2", 1}});
  const auto* p1 = find_channel(s3, "c1");
  REQUIRE(p1->messages.size() == 5);
  CHECK(p1->version == 10);
  CHECK(p1->head_version == 12);
  CHECK(s3.more);
  auto s4 = f.sync("bob", {{"c1", p1->version}, {"c2", 1}});
  const auto* p2 = find_channel(s4, "c1");
  REQUIRE(p2->messages.size() == 2);
  CHECK(p2->version == 12);
  CHECK_FALSE(s4.more);

  // Membership changes appear in deltas, removals as removed: true; the
  // removed user's own sync says `removed`.
  REQUIRE(f.remove("alice", "c2", {"bob"}).ok());
  auto sa = f.sync("alice", {{"c2", 1}});
  const auto* c2 = find_channel(sa, "c2");
  REQUIRE(c2 != nullptr);
  REQUIRE(c2->members.size() == 1);
  CHECK(c2->members[0].user == "bob");
  CHECK(c2->members[0].removed);
  CHECK(c2->members[0].version == 2);
  auto sb = f.sync("bob", {{"c1", 12}, {"c2", 1}, {"ghost", 3}});
  CHECK(find_channel(sb, "c2")->status == SyncStatus::removed);
  CHECK(find_channel(sb, "c2")->version == 2);
  CHECK(find_channel(sb, "ghost")->status == SyncStatus::removed);

  // Channel info changes come with the delta that covers them.
  UpdateChannelOp up;
  up.user = "alice";
  up.channel = "c1";
  up.client_id = f.cid();
  up.name = "renamed";
  REQUIRE(f.write(up).ok());
  auto si = f.sync("bob", {{"c1", 12}});
  REQUIRE(find_channel(si, "c1")->info);
  CHECK(find_channel(si, "c1")->info->name == "renamed");
  (void)m2;
  (void)m3;
}

TEST_CASE("store: paging a delta from any cursor with any limit yields exactly the changes") {
  StoreFixture f;
  f.open();
  REQUIRE(f.create("alice", "p", {"bob"}).ok());
  std::mt19937 rng(7);
  auto pick = [&](std::uint32_t n) {
    return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(rng);
  };
  Seq last = 0;
  std::map<std::string, Version> member_versions{{"alice", 1}, {"bob", 1}};
  for (int i = 0; i < 400; ++i) {
    const auto dice = pick(100);
    if (dice < 55 || last == 0) {
      const Seq reply_to =
          pick(4) == 0 && last > 0 ? 1 + pick(static_cast<std::uint32_t>(last)) : 0;
      auto r = f.send(pick(2) == 0 ? "alice" : "bob", "p", "m", "", reply_to);
      REQUIRE(r.ok());
      last = r.seq;
      continue;
    }
    const Seq seq = 1 + pick(static_cast<std::uint32_t>(last));
    if (dice < 70) {
      f.write(EditOp{"alice", "p", f.cid(), "edited", seq, {}, kNow});  // may be denied: fine
    } else if (dice < 85) {
      f.react("bob", "p", seq, pick(2) == 0 ? "a" : "b",
              pick(2) == 0 ? proto::ReactAction::add : proto::ReactAction::remove);
    } else if (dice < 90) {
      f.write(DeleteOp{"alice", "p", f.cid(), seq, false, kNow});
    } else {
      const std::string user = "m" + std::to_string(pick(5));
      auto r = pick(2) == 0 ? f.add("alice", "p", {user}) : f.remove("alice", "p", {user});
      REQUIRE(r.ok());
      for (const auto& ch : r.member_changes)
        member_versions[ch.user] = ch.version;
    }
  }
  // The reference: every message's current state.
  std::map<Seq, Version> ref;
  for (Seq before = last + 1; before > 1;) {
    auto page = f.history("bob", "p", before, 0, 500);
    for (const auto& m : page.messages)
      ref[m.seq] = m.version;
    before = page.messages.front().seq;
  }
  REQUIRE(ref.size() == last);
  const Version head = find_channel(f.sync("bob", {{"p", 1}}), "p")->head_version;

  for (Version start : {Version{0}, Version{1}, Version{37}, Version{200}, head - 3, head}) {
    for (std::uint32_t limit : {1u, 3u, 7u, 50u}) {
      CAPTURE(start);
      CAPTURE(limit);
      std::map<Seq, Version> got;
      std::map<std::string, Version> got_members;
      Version cur = start;
      for (int round = 0; round < 2000; ++round) {
        auto s = f.sync("bob", {{"p", cur}}, limit);
        const auto* cs = find_channel(s, "p");
        REQUIRE(cs != nullptr);
        REQUIRE(cs->status == SyncStatus::delta);
        // At most `limit` changes; one change may touch several members
        // (a channel's creation gives every initial member version 1).
        std::set<Version> versions;
        for (const auto& m : cs->messages)
          versions.insert(m.version);
        for (const auto& m : cs->members)
          versions.insert(m.version);
        CHECK(versions.size() <= limit);
        Version prev = cur;
        for (const auto& m : cs->messages) {
          CHECK(m.version > prev);  // ascending, after the cursor
          prev = m.version;
          CHECK(m.version <= cs->version);
          got[m.seq] = m.version;
        }
        for (const auto& m : cs->members) {
          CHECK(m.version > cur);
          CHECK(m.version <= cs->version);
          got_members[m.user] = m.version;
        }
        CHECK(s.more == (cs->version < head));
        if (cur < head) {
          REQUIRE(cs->version > cur);  // always progresses
        }
        cur = cs->version;
        if (cur == head) break;
      }
      REQUIRE(cur == head);
      for (const auto& [seq, version] : ref) {
        if (version > start) {
          CHECK(got[seq] == version);
        } else {
          CHECK(got.count(seq) == 0);
        }
      }
      for (const auto& [user, version] : member_versions) {
        if (version > start) CHECK(got_members[user] == version);
      }
    }
  }
}

TEST_CASE("store: sync says too_far_behind with the newest page, total cap leaves channels out") {
  StoreFixture f;
  f.config.too_far_behind = 20;
  f.config.sync_total_max = 60;
  f.open();
  REQUIRE(f.create("alice", "big", {"bob"}).ok());
  REQUIRE(f.create("alice", "small", {"bob"}).ok());
  for (int i = 0; i < 70; ++i)
    f.send("alice", "big", "m" + std::to_string(i));
  f.send("alice", "small", "s");
  auto s = f.sync("bob", {{"big", 1}, {"small", 1}});
  const auto* big = find_channel(s, "big");
  REQUIRE(big != nullptr);
  CHECK(big->status == SyncStatus::too_far_behind);
  REQUIRE(big->messages.size() == 50);
  CHECK(big->messages.front().seq == 21);
  CHECK(big->messages.back().seq == 70);
  CHECK(big->version == 71);
  REQUIRE(big->info);
  CHECK(big->members.size() == 2);
  // 50 of the 60-change budget used; small's single change still fits.
  REQUIRE(find_channel(s, "small") != nullptr);
  CHECK(find_channel(s, "small")->messages.size() == 1);
  CHECK_FALSE(s.more);

  f.send("alice", "small", "s2");
  f.config.sync_total_max = 50;
  f.close();
  f.open();
  auto s2 = f.sync("bob", {{"big", 1}, {"small", 1}});
  CHECK(find_channel(s2, "big") != nullptr);
  CHECK(find_channel(s2, "small") == nullptr);  // out of budget
  CHECK(s2.more);
}

TEST_CASE("store: history pages by keyset in both directions with more flags") {
  StoreFixture f;
  f.open();
  REQUIRE(f.create("alice", "h", {"bob"}).ok());
  for (int i = 1; i <= 30; ++i)
    f.send("alice", "h", std::to_string(i));
  REQUIRE(f.write(DeleteOp{"alice", "h", f.cid(), 15, false, kNow}).ok());

  auto newest = f.history("bob", "h", 0, 0, 10);
  REQUIRE(newest.messages.size() == 10);
  CHECK(newest.messages.front().seq == 21);
  CHECK(newest.messages.back().seq == 30);
  CHECK(newest.more_before);
  CHECK_FALSE(newest.more_after);

  auto before = f.history("bob", "h", 21, 0, 10);
  REQUIRE(before.messages.size() == 10);
  CHECK(before.messages.front().seq == 11);
  CHECK(before.messages.back().seq == 20);
  CHECK(before.messages[4].deleted);  // seq 15: tombstone included
  CHECK(before.more_before);
  CHECK(before.more_after);

  auto oldest = f.history("bob", "h", 4, 0, 10);
  REQUIRE(oldest.messages.size() == 3);
  CHECK_FALSE(oldest.more_before);
  CHECK(oldest.more_after);

  auto after = f.history("bob", "h", 0, 25, 10);
  REQUIRE(after.messages.size() == 5);
  CHECK(after.messages.front().seq == 26);
  CHECK(after.more_before);
  CHECK_FALSE(after.more_after);

  auto after_small = f.history("bob", "h", 0, 2, 3);
  REQUIRE(after_small.messages.size() == 3);
  CHECK(after_small.messages.front().seq == 3);
  CHECK(after_small.more_after);

  f.close();
  f.config.history_max = 7;
  f.open();
  CHECK(f.history("bob", "h", 0, 0, 100).messages.size() == 7);
  CHECK(f.history("bob", "h").messages.size() == 7);  // default 50 capped by the config
  CHECK(f.read_raw(HistoryQuery{"h", "mallory", 0, 0, 0}).code() == Errc::not_member);
  CHECK(f.read_raw(HistoryQuery{"nope", "bob", 0, 0, 0}).code() == Errc::not_found);
  CHECK(f.history("", "h", 0, 0, 3).messages.size() == 3);  // admin: no membership check
}

TEST_CASE("store: unread and mentions are arithmetic over cursors") {
  StoreFixture f;
  f.open();
  REQUIRE(f.create("alice", "u", {"bob"}).ok());
  f.send("alice", "u", "a");
  auto m2 = f.send("alice", "u", "hey @bob", "", 0, {"bob", "bob"});
  REQUIRE(m2.messages[0].mentions == std::vector<std::string>{"bob"});
  f.send("alice", "u", "c");
  auto m4 = f.send("alice", "u", "again @bob", "", 0, {"bob"});

  auto u = f.sync_one("bob", {{"u", 1}}, "u");
  CHECK(u.unread == 4);
  CHECK(u.mentions == 2);
  CHECK(u.read_seq == 0);
  // A send does not write the sender's cursor row: the engine moves it and
  // writes it behind with the receipts (engine+sqlite test).
  const auto ua = f.sync_one("alice", {{"u", 1}}, "u");
  CHECK(ua.read_seq == 0);
  REQUIRE(f.write(CursorsOp{{{"alice", "u", 4, 4}}}).ok());
  CHECK(f.sync_one("alice", {{"u", 1}}, "u").unread == 0);

  REQUIRE(f.write(CursorsOp{{{"bob", "u", m2.seq, 0}}}).ok());
  u = f.sync_one("bob", {{"u", 1}}, "u");
  CHECK(u.read_seq == 2);
  CHECK(u.unread == 2);
  CHECK(u.mentions == 1);

  // A deleted message no longer mentions anyone.
  REQUIRE(f.write(DeleteOp{"alice", "u", f.cid(), m4.seq, false, kNow}).ok());
  u = f.sync_one("bob", {{"u", 1}}, "u");
  CHECK(u.mentions == 0);
  CHECK(u.unread == 2);

  // Reading to the head leaves nothing unread.
  f.send("bob", "u", "caught up");
  REQUIRE(f.write(CursorsOp{{{"bob", "u", 5, 5}}}).ok());
  u = f.sync_one("bob", {{"u", 1}}, "u");
  CHECK(u.unread == 0);
  CHECK(u.read_seq == 5);

  // A member added later does not inherit the channel's backlog as unread.
  REQUIRE(f.add("alice", "u", {"carol"}).ok());
  f.send("alice", "u", "welcome");
  const auto uc = f.sync_one("carol", {}, "u");
  CHECK(uc.unread == 1);
}

TEST_CASE("store: receipt cursors never move backwards and are clamped to last_seq") {
  StoreFixture f;
  f.open();
  REQUIRE(f.create("alice", "r", {"bob"}).ok());
  for (int i = 0; i < 10; ++i)
    f.send("alice", "r", "x");
  REQUIRE(f.write(CursorsOp{{{"bob", "r", 7, 9}}}).ok());
  REQUIRE(f.write(CursorsOp{{{"bob", "r", 3, 2}, {"bob", "nowhere", 5, 5}}}).ok());
  auto s = f.sync_one("bob", {{"r", 1}}, "r");
  CHECK(s.read_seq == 7);
  CHECK(s.delivered_seq == 9);
  REQUIRE(f.write(CursorsOp{{{"bob", "r", 0, 999}}}).ok());  // 0 = unchanged
  REQUIRE(f.write(CursorsOp{{{"bob", "r", 500, 0}}}).ok());
  s = f.sync_one("bob", {{"r", 1}}, "r");
  CHECK(s.read_seq == 10);
  CHECK(s.delivered_seq == 10);
  CHECK(s.unread == 0);
  // Small channels report members' read positions.
  auto full = f.sync("alice", {});
  const auto* r = find_channel(full, "r");
  REQUIRE(r->members.size() == 2);
  CHECK(r->members[1].user == "bob");
  CHECK(r->members[1].read_seq == 10);
}

}  // namespace
}  // namespace chatsdk::server::store::test
