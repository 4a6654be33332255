// View-models (diffs with stable keys) and typing debounce, on a manual clock.
#include <unistd.h>
#include <filesystem>
#include <random>

#include "client/core/list_diff.hpp"
#include "core_fixture.hpp"

using namespace chatsdk;
using namespace chatsdk::client;
using namespace chatsdk::client::test;

namespace {
struct Row {
  std::string key;
  int value = 0;
  friend bool operator==(const Row&, const Row&) = default;
};
}  // namespace

TEST_CASE("list_diff: applying the diff turns the old list into the new one") {
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    std::vector<Row> a, b;
    for (int i = 0; i < 12; ++i) {
      if (rng() % 3 != 0) a.push_back(Row{"k" + std::to_string(i), static_cast<int>(rng() % 3)});
      if (rng() % 3 != 0) b.push_back(Row{"k" + std::to_string(i), static_cast<int>(rng() % 3)});
    }
    std::shuffle(b.begin(), b.end(), rng);
    std::vector<DiffOp<Row>> ops;
    diff_lists(a, b, ops);
    auto copy = a;
    apply_diff(copy, ops);
    REQUIRE(copy == b);
  }
  // an in-place change is one update, never remove+insert
  std::vector<Row> a{{"x", 1}, {"y", 1}}, b{{"x", 1}, {"y", 2}};
  std::vector<DiffOp<Row>> ops;
  diff_lists(a, b, ops);
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].kind == DiffKind::update);
  CHECK(ops[0].index == 1);
}

TEST_CASE("timeline: a local echo keeps its key and position when the server confirms it") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {msg("g1", 1, 1, "bob", "hi")}, 1)});
  REQUIRE(f.core->open_timeline("g1").ok());
  std::vector<TimelineItem> mirror;
  auto sync_mirror = [&] {
    for (auto& d : f.events_of<TimelineDiff>())
      apply_diff(mirror, d.ops);
    f.events.clear();
  };
  sync_mirror();
  REQUIRE(mirror.size() == 1);
  CHECK(mirror[0].key == "g1:1");
  auto op = f.core->send_text("g1", "hello");
  sync_mirror();
  REQUIRE(mirror.size() == 2);
  std::string key = mirror[1].key;
  CHECK(key == f.core->op(*op)->client_id);
  CHECK(mirror[1].message.seq == 0);
  CHECK(mirror[1].state == OpState::sending);
  auto s = f.sent<proto::Send>().back();
  f.frame(proto::Sent{s.id, "g1", s.client_id, 2, 2, 1'700'000'500'000});
  // only updates in place: no remove+insert for the confirmed echo
  auto diffs = f.events_of<TimelineDiff>();
  for (auto& d : diffs)
    for (auto& o : d.ops)
      CHECK(o.kind == DiffKind::update);
  sync_mirror();
  REQUIRE(mirror.size() == 2);
  CHECK(mirror[1].key == key);
  CHECK(mirror[1].message.seq == 2);
  CHECK(mirror[1].state == OpState::sent);
  CHECK(mirror == f.core->timeline("g1"));
}

TEST_CASE("timeline: every message appears once - in seq order - despite duplicates") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {msg("g1", 1, 1, "bob", "a")}, 1)});
  REQUIRE(f.core->open_timeline("g1").ok());
  auto own = f.core->send_text("g1", "mine");
  auto s = f.sent<proto::Send>().back();
  // our message comes back through another device's view before the ack
  proto::MessageEvent e;
  e.message = msg("g1", 2, 2, "alice", "mine", s.client_id);
  f.frame(e);
  e.message = msg("g1", 3, 3, "bob", "b");
  f.frame(e);
  f.frame(e);
  f.frame(proto::Sent{s.id, "g1", s.client_id, 2, 2, 0});
  auto tl = f.core->timeline("g1");
  REQUIRE(tl.size() == 3);
  CHECK(tl[0].message.seq == 1);
  CHECK(tl[1].message.seq == 2);
  CHECK(tl[1].key == s.client_id);
  CHECK(tl[2].message.seq == 3);
  CHECK(f.core->op(*own)->state == OpState::sent);
}

TEST_CASE("channel list: ordered by activity - diffs keyed by channel id - readable offline") {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("chatsdk_list_" + std::to_string(::getpid()) + ".db"))
                         .string();
  std::filesystem::remove(path);
  {
    CoreFixture f(path);
    f.go_live({CoreFixture::joined("a", {msg("a", 1, 1, "bob", "old")}, 1),
               CoreFixture::joined("b", {msg("b", 1, 1, "bob", "new")}, 1)});
    auto list = f.core->channels();
    REQUIRE(list.size() == 2);
    CHECK(list[0].id == "a");  // same created_at+seq -> tie broken by id
    std::vector<ChannelItem> mirror;
    for (auto& d : f.events_of<ChannelListDiff>())
      apply_diff(mirror, d.ops);
    f.events.clear();
    proto::MessageEvent e;
    e.message = msg("b", 5, 2, "bob", "newest");
    f.frame(e);
    for (auto& d : f.events_of<ChannelListDiff>())
      apply_diff(mirror, d.ops);
    REQUIRE(mirror.size() == 2);
    CHECK(mirror[0].key == "b");
    CHECK(mirror[0].channel.last_message->body == "newest");
    CHECK(mirror[0].channel.unread == 5);
  }
  // cold start: the list comes from the cache before any network I/O
  CoreFixture g(path);
  auto first = g.events_of<ChannelListDiff>();
  REQUIRE_FALSE(first.empty());
  REQUIRE(first[0].ops.size() == 1);
  CHECK(first[0].ops[0].kind == DiffKind::reset);
  REQUIRE(first[0].ops[0].items.size() == 2);
  CHECK(first[0].ops[0].items[0].key == "b");
  CHECK(g.core->latest_messages("b").back().body == "newest");
  CHECK(g.actions.empty());
  std::filesystem::remove(path);
}

TEST_CASE("typing: one start per 3 s - stop 5 s after the last keystroke") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {}, 1)});
  f.clear();
  f.core->typing_keystroke("g1");
  f.pump();
  CHECK(f.sent<proto::Typing>().size() == 1);
  for (int i = 0; i < 29; ++i) {  // keystrokes every 100 ms for 2.9 s
    f.advance(100);
    f.core->typing_keystroke("g1");
  }
  CHECK(f.sent<proto::Typing>().size() == 1);
  f.advance(100);  // 3.0 s after the first start
  f.core->typing_keystroke("g1");
  auto t = f.sent<proto::Typing>();
  REQUIRE(t.size() == 2);
  CHECK(t[1].state == proto::TypingState::start);
  f.advance(4'999);
  CHECK(f.sent<proto::Typing>().size() == 2);
  f.advance(1);
  t = f.sent<proto::Typing>();
  REQUIRE(t.size() == 3);
  CHECK(t[2].state == proto::TypingState::stop);
}

TEST_CASE("typing: a send stops typing at once - nothing is sent or queued offline") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {}, 1)});
  f.clear();
  f.core->typing_keystroke("g1");
  REQUIRE(f.core->send_text("g1", "done").ok());
  auto t = f.sent<proto::Typing>();
  REQUIRE(t.size() == 2);
  CHECK(t[1].state == proto::TypingState::stop);
  f.core->disconnect();
  f.clear();
  f.core->typing_keystroke("g1");
  f.core->typing_stop("g1");
  f.pump();
  CHECK(f.frames.empty());
  f.core->connect();
  f.pump();
  f.core->on_open(f.conn);
  f.pump();
  CHECK(f.sent<proto::Typing>().empty());
}

TEST_CASE("typing: remote indicators expire after 6 s without a refresh") {
  CoreFixture f;
  f.go_live({CoreFixture::joined("g1", {}, 1)});
  f.clear();
  f.frame(proto::TypingEvent{"g1", "bob", proto::TypingState::start});
  CHECK(f.core->typing_users("g1") == std::vector<std::string>{"bob"});
  f.advance(3'000);
  f.frame(proto::TypingEvent{"g1", "bob", proto::TypingState::start});  // refresh
  f.advance(5'999);
  CHECK(f.core->typing_users("g1").size() == 1);
  f.advance(1);
  CHECK(f.core->typing_users("g1").empty());
  auto ev = f.events_of<TypingChanged>();
  REQUIRE(ev.size() == 2);
  CHECK(ev[1].users.empty());
}
