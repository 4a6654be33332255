// Seeded hostile histories for sync: live events dropped, duplicated and
// reordered, edits of old messages, disconnects and crashes. After a calm
// phase the cache must equal the server: every held message at its latest
// version, exactly once, the cursor at the head, unread counts equal.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "client/core/list_diff.hpp"
#include "core_fixture.hpp"

using namespace chatsdk;
using namespace chatsdk::client;
using namespace chatsdk::client::test;

namespace {

struct ChannelModel {
  std::vector<proto::Message> msgs;  // index = seq - 1
  Version version = 1;

  proto::MessageEvent add(std::mt19937_64& rng) {
    proto::MessageEvent e;
    if (!msgs.empty() && rng() % 4 == 0) {  // edit an old message
      auto& m = msgs[rng() % msgs.size()];
      m.version = ++version;
      m.body = "edit" + std::to_string(version);
      e.change = proto::MessageChange::edited;
      e.message = m;
    } else {
      Seq seq = msgs.size() + 1;
      msgs.push_back(msg("g", seq, ++version, "bob", "m" + std::to_string(seq)));
      e.change = proto::MessageChange::created;
      e.message = msgs.back();
    }
    return e;
  }

  proto::SyncResult sync(const proto::Sync& s) const {
    proto::SyncResult r;
    r.id = s.id;
    proto::ChannelSync cs;
    cs.channel = "g";
    auto it = std::find_if(s.channels.begin(), s.channels.end(),
                           [](const proto::ChannelCursor& c) { return c.channel == "g"; });
    std::vector<proto::Message> out;
    if (it == s.channels.end()) {
      cs.status = proto::SyncStatus::joined;
      cs.info = info("g", msgs.size(), version);
      std::size_t from = msgs.size() > 50 ? msgs.size() - 50 : 0;
      out.assign(msgs.begin() + static_cast<std::ptrdiff_t>(from), msgs.end());
    } else {
      cs.status = proto::SyncStatus::delta;
      for (auto& m : msgs)
        if (m.version > it->version) out.push_back(m);
      std::sort(out.begin(), out.end(),
                [](const auto& a, const auto& b) { return a.version < b.version; });
    }
    cs.messages = out;
    cs.version = version;
    cs.head_version = version;
    cs.last_seq = msgs.size();
    cs.unread = static_cast<std::uint32_t>(msgs.size());
    r.channels.push_back(cs);
    return r;
  }
};

void welcome(CoreFixture& f, ConnId conn) {
  proto::Welcome w;
  w.user = "alice";
  w.session = "s";
  w.protocol = 1;
  w.heartbeat_ms = 10'000;
  f.core->on_frame(conn, w);
}

void run_seed(std::uint64_t seed, const std::string& path) {
  std::mt19937_64 rng(seed);
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  ChannelModel server;
  CoreFixture f(path, false);
  f.options.seed = seed;
  f.options.backoff = BackoffOptions{100, 1000, 2.0};
  f.open(path);
  f.core->connect();
  bool connected = false;
  std::vector<proto::ServerFrame> delayed;  // reordering buffer
  auto service = [&](bool hostile) {
    f.pump();
    std::vector<Action> actions = std::exchange(f.actions, {});
    for (std::size_t i = 0; i < actions.size(); ++i) {
      if (auto* o = std::get_if<OpenAction>(&actions[i])) {
        f.core->on_open(o->conn);
        connected = true;
        welcome(f, o->conn);
      } else if (auto* s = std::get_if<SendAction>(&actions[i])) {
        if (s->conn != f.conn || !connected) continue;
        if (auto* sy = std::get_if<proto::Sync>(&s->frame))
          f.core->on_frame(s->conn, server.sync(*sy));
        if (auto* p = std::get_if<proto::Ping>(&s->frame))
          f.core->on_frame(s->conn, proto::Pong{p->id, 0});
      } else if (std::holds_alternative<CloseAction>(actions[i])) {
        connected = false;
      }
      f.pump();
      for (auto& more : std::exchange(f.actions, {}))
        actions.push_back(std::move(more));
    }
    (void)hostile;
  };
  for (int step = 0; step < 300; ++step) {
    if (chance(0.5)) {
      proto::MessageEvent e = server.add(rng);
      if (connected && !chance(0.2)) {  // 20% of live events are lost
        if (chance(0.15)) {
          delayed.emplace_back(e);  // delivered later, out of order
        } else {
          f.core->on_frame(f.conn, e);
          if (chance(0.1)) f.core->on_frame(f.conn, e);
        }
      }
    }
    if (connected && !delayed.empty() && chance(0.3)) {
      f.core->on_frame(f.conn, delayed.back());
      delayed.pop_back();
    }
    if (connected && chance(0.03)) {
      f.core->on_closed(f.conn, 1006, "cut");
      connected = false;
      delayed.clear();
    }
    if (chance(0.02)) {
      f.conn = 0;
      f.open(path);
      f.core->connect();
      connected = false;
      delayed.clear();
    }
    service(true);
    f.advance(static_cast<std::int64_t>(rng() % 200));
  }
  // Calm: one more change delivered reliably reveals any gap; then settle.
  delayed.clear();
  for (int i = 0; i < 200 && !connected; ++i) {
    service(false);
    f.advance(200);
  }
  REQUIRE(connected);
  f.core->on_frame(f.conn, server.add(rng));
  for (int i = 0; i < 20; ++i) {
    service(false);
    f.advance(100);
  }
  INFO("seed " << seed);
  auto row = f.store->channel("g");
  REQUIRE(row.has_value());
  CHECK(row->cursor == server.version);
  CHECK(row->channel.last_seq == server.msgs.size());
  CHECK(row->channel.unread == server.msgs.size());
  auto held = f.store->messages_from("g", 1);
  REQUIRE_FALSE(held.empty());
  Seq prev = 0;
  for (auto& m : held) {
    CHECK(m.seq > prev);  // once each, in seq order
    prev = m.seq;
    const auto& truth = server.msgs[static_cast<std::size_t>(m.seq) - 1];
    CHECK(m.version == truth.version);
    CHECK(m.body == truth.body);
  }
  CHECK(held.back().seq == server.msgs.size());
  // The channel list the app built from diffs alone equals the cache.
  std::vector<ChannelItem> mirror;
  for (auto& d : f.events_of<ChannelListDiff>())
    apply_diff(mirror, d.ops);
  auto now = f.core->channels();
  REQUIRE(mirror.size() == now.size());
  for (std::size_t i = 0; i < now.size(); ++i)
    CHECK(mirror[i].channel == now[i]);
}

}  // namespace

TEST_CASE(
    "sync fuzz: the cache converges to the server under lost - duplicated - reordered events") {
  std::filesystem::path dir = std::filesystem::is_directory("/dev/shm")
                                  ? "/dev/shm"
                                  : std::filesystem::temp_directory_path();
  std::string path = (dir / ("chatsdk_syncfuzz_" + std::to_string(::getpid()) + ".db")).string();
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    for (const char* s : {"", "-wal", "-shm"})
      std::filesystem::remove(path + s);
    run_seed(seed, path);
  }
  for (const char* s : {"", "-wal", "-shm"})
    std::filesystem::remove(path + s);
}
