// Engine over the real SQLite store (no fakes below the engine): acks after
// commit, fan-out, replay, membership, receipts written behind, restart.
// Active once the store implementation is part of the build.
#if __has_include("server/store/sqlite_store.hpp")

#include <stdlib.h>

#include <filesystem>

#include <doctest/doctest.h>

#include "test_engine_harness.hpp"

namespace chatsdk::server::testing {
namespace {

struct DataDir {
  std::string path;
  DataDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "chatsdk-engine-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~DataDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;
};

std::unique_ptr<Harness> sqlite_engine(const DataDir& dir) {
  return std::make_unique<Harness>(
      Harness::WithStore{[](const Config& c, LoopPoster& p, Metrics& m) {
        return store::make_sqlite_store(c, p, m);
      }},
      [&](Config& c) { c.data_dir = dir.path; });
}

/// The session's sync answer for its only channel.
proto::ChannelSync sync_only_channel(Harness& h, SessionId s, proto::RequestId id) {
  h.send(s, proto::Sync{id, {}, 0});
  REQUIRE(h.wait_frames(s, 1));
  auto sync = h.take_of<proto::SyncResult>(s);
  REQUIRE(sync.size() == 1);
  REQUIRE(sync[0].channels.size() == 1);
  return sync[0].channels[0];
}

void shutdown(Harness& h) {
  bool done = false;
  h.engine->drain([&] { done = true; });
  REQUIRE(h.poster.pump_until([&] { return done; }));
}

TEST_CASE("engine+sqlite: create, add, send, replay, receipts, restart") {
  DataDir dir;
  {
    auto h = sqlite_engine(dir);
    const SessionId a1 = h->login("alice");
    const SessionId a2 = h->login("alice");
    const SessionId b1 = h->login("bob");
    h->clear();

    h->send(a1, proto::ChannelCreate{
                    1, "cc1", proto::ChannelKind::group, "team", "Team", false, {"bob"}, {}});
    REQUIRE(h->wait_frames(a1, 1));
    auto created = h->take_of<proto::ChannelReply>(a1);
    REQUIRE(created.size() == 1);
    CHECK(created[0].info.channel == "team");
    CHECK(created[0].info.role == proto::Role::owner);
    REQUIRE(h->wait_frames(b1, 1));
    CHECK(h->take_of<proto::ChannelAdded>(b1).size() == 1);
    CHECK(h->take_of<proto::ChannelAdded>(a2).size() == 1);

    h->send(a1, proto::Send{2, "team", "m1", "hello", 0, {}, {}});
    REQUIRE(h->wait_frames(a1, 1));
    auto sent = h->take_of<proto::Sent>(a1);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].seq == 1);
    REQUIRE(h->wait_frames(b1, 1));
    auto ev = h->take_of<proto::MessageEvent>(b1);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].message.body == "hello");
    CHECK(ev[0].message.version == sent[0].version);
    CHECK(h->take_of<proto::MessageEvent>(a2).size() == 1);

    h->send(a1, proto::Send{3, "team", "m1", "hello", 0, {}, {}});
    REQUIRE(h->wait_frames(a1, 1));
    auto again = h->take_of<proto::AlreadyApplied>(a1);
    REQUIRE(again.size() == 1);
    CHECK(again[0].seq == 1);
    CHECK(h->take(b1).empty());

    h->send(b1, proto::Send{4, "team", "x1", "nope", 0, {}, {}});  // member: fine
    REQUIRE(h->wait_frames(b1, 1));
    CHECK(h->take_of<proto::Sent>(b1).size() == 1);
    // Alice's own send counts as read for her at once (the cursor row is
    // written behind): only bob's message is unread.
    h->clear();
    const auto mine = sync_only_channel(*h, a1, 6);
    CHECK(mine.read_seq == 1);
    CHECK(mine.unread == 1);
    h->send(b1, proto::MarkRead{5, "team", 2});
    h->advance(h->config.receipt_flush_ms);
    h->clear();
    shutdown(*h);
  }
  {
    // Restart: channels come back from the database, cursors were written.
    auto h = sqlite_engine(dir);
    const SessionId b1 = h->login("bob");
    h->send(b1, proto::Sync{7, {}, 0});
    REQUIRE(h->wait_frames(b1, 1));
    auto sync = h->take_of<proto::SyncResult>(b1);
    REQUIRE(sync.size() == 1);
    REQUIRE(sync[0].channels.size() == 1);
    CHECK(sync[0].channels[0].channel == "team");
    CHECK(sync[0].channels[0].last_seq == 2);
    CHECK(sync[0].channels[0].read_seq == 2);
    // ...and alice's own-send cursor was written behind before the shutdown.
    const SessionId a1 = h->login("alice");
    const auto mine = sync_only_channel(*h, a1, 10);
    CHECK(mine.read_seq == 1);
    CHECK(mine.unread == 1);
    h->clear();  // alice coming online told bob
    h->send(b1, proto::History{8, "team", {}, {}, 0});
    REQUIRE(h->wait_frames(b1, 1));
    auto page = h->take_of<proto::HistoryPage>(b1);
    REQUIRE(page.size() == 1);
    CHECK(page[0].messages.size() == 2);
    const SessionId c1 = h->login("carol");
    h->send(c1, proto::Send{9, "team", "c1", "let me in", 0, {}, {}});
    CHECK(only_error(h->take(c1)).code == "not_member");
    shutdown(*h);
  }
}

}  // namespace
}  // namespace chatsdk::server::testing

#endif
