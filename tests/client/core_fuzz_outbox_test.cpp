// Seeded hostile histories for the outbox: random disconnects, lost and
// duplicated replies, and process crashes (drop the core, reopen the file),
// against a tiny model server that dedupes on client_id like the real one.
// Edits name messages by client_id, often before the send went out
// (dependencies). Invariants: every op is applied exactly once, per-channel
// order equals call order, each edit targets the seq of the message it named,
// every op ends `sent`, the cache holds each message once.
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>

#include "core_fixture.hpp"

using namespace chatsdk;
using namespace chatsdk::client;
using namespace chatsdk::client::test;

namespace {

struct ModelServer {
  std::map<std::string, std::vector<std::string>> applied;  // channel -> client ids in seq order
  std::map<std::string, std::vector<std::string>> log;      // channel -> every op applied, in order
  std::map<std::string, std::pair<std::string, Seq>> by_client_id;
  std::map<std::string, std::string>
      edit_target;  // edit client id -> client id of the edited message

  std::vector<proto::ServerFrame> handle(const proto::ClientFrame& f) {
    std::vector<proto::ServerFrame> out;
    if (auto* s = std::get_if<proto::Send>(&f)) {
      auto it = by_client_id.find(s->client_id);
      if (it != by_client_id.end()) {
        proto::AlreadyApplied aa;
        aa.id = s->id;
        aa.channel = s->channel;
        aa.client_id = s->client_id;
        aa.seq = it->second.second;
        aa.version = aa.seq;
        out.emplace_back(aa);
      } else {
        auto& list = applied[s->channel];
        list.push_back(s->client_id);
        log[s->channel].push_back(s->client_id);
        Seq seq = list.size();
        by_client_id[s->client_id] = {s->channel, seq};
        out.emplace_back(proto::Sent{s->id, s->channel, s->client_id, seq, seq,
                                     1'000 + static_cast<std::int64_t>(seq)});
      }
    } else if (auto* e = std::get_if<proto::Edit>(&f)) {
      if (by_client_id.count(e->client_id) == 0) {
        auto& list = applied[e->channel];
        REQUIRE(e->seq >= 1);  // dependencies resolved before sending
        REQUIRE(e->seq <= list.size());
        log[e->channel].push_back(e->client_id);
        edit_target[e->client_id] = list[e->seq - 1];
        by_client_id[e->client_id] = {e->channel, e->seq};
      }
      out.emplace_back(proto::Ok{e->id, e->channel, 0});
    } else if (auto* sy = std::get_if<proto::Sync>(&f)) {
      proto::SyncResult r;
      r.id = sy->id;
      std::map<std::string, Version> cursors;
      for (auto& c : sy->channels)
        cursors[c.channel] = c.version;
      for (auto& [ch, list] : applied) {
        proto::ChannelSync cs;
        cs.channel = ch;
        auto cur = cursors.find(ch);
        cs.status = cur == cursors.end() ? proto::SyncStatus::joined : proto::SyncStatus::delta;
        Seq from = cur == cursors.end() ? (list.size() > 50 ? list.size() - 50 : 0) : cur->second;
        for (Seq q = from + 1; q <= list.size(); ++q) {
          auto m = msg(ch, q, q, "alice", "m", list[q - 1]);
          cs.messages.push_back(m);
        }
        if (cur == cursors.end()) cs.info = info(ch, list.size(), list.size());
        cs.version = list.size();
        cs.head_version = list.size();
        cs.last_seq = list.size();
        cs.read_seq = list.size();
        r.channels.push_back(cs);
      }
      out.emplace_back(r);
    } else if (auto* p = std::get_if<proto::Ping>(&f)) {
      out.emplace_back(proto::Pong{p->id, 0});
    }
    return out;
  }
};

void run_seed(std::uint64_t seed, const std::string& path) {
  std::mt19937_64 rng(seed);
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  ModelServer server;
  CoreFixture f(path, false);
  f.options.seed = seed;
  f.options.backoff = BackoffOptions{100, 2000, 2.0};
  f.open(path);
  std::map<std::string, std::vector<std::string>> expected;  // channel -> client ids, send order
  std::map<std::string, std::vector<std::string>> expected_log;  // channel -> all ops, call order
  std::map<std::string, std::string> expected_target;            // edit -> edited message
  const char* channels[] = {"a", "b", "c"};
  bool connected = false;
  f.core->connect();
  for (int step = 0; step < 300; ++step) {
    if (step < 200 && chance(0.3)) {
      std::string ch = channels[rng() % 3];
      auto op = f.core->send_text(ch, "m" + std::to_string(step));
      REQUIRE(op.ok());
      expected[ch].push_back(f.core->op(*op)->client_id);
      expected_log[ch].push_back(expected[ch].back());
      if (chance(0.3)) {  // edit one of our messages, maybe before it was sent
        std::string target = expected[ch][rng() % expected[ch].size()];
        auto e = f.core->edit(MessageRef{ch, 0, target}, "edited");
        REQUIRE(e.ok());
        std::string cid = f.core->op(*e)->client_id;
        expected_log[ch].push_back(cid);
        expected_target[cid] = target;
      }
    }
    if (chance(0.03)) {  // crash between any two steps
      f.conn = 0;
      f.open(path);
      f.core->connect();
      connected = false;
    }
    f.pump();
    std::vector<Action> actions = std::exchange(f.actions, {});
    f.frames.clear();
    for (auto& a : actions) {
      if (auto* o = std::get_if<OpenAction>(&a)) {
        if (chance(0.2)) {
          f.core->on_failed(o->conn, "refused");
        } else {
          f.core->on_open(o->conn);
          connected = true;
          proto::Welcome w;
          w.user = "alice";
          w.session = "s";
          w.protocol = 1;
          w.heartbeat_ms = 10'000;
          f.core->on_frame(o->conn, w);
        }
      } else if (auto* s = std::get_if<SendAction>(&a)) {
        if (!connected || s->conn != f.conn) continue;
        auto replies = server.handle(s->frame);
        for (auto& r : replies) {
          if (chance(0.1)) continue;  // reply lost
          f.core->on_frame(s->conn, r);
          if (chance(0.1)) f.core->on_frame(s->conn, r);  // duplicated
        }
      } else if (std::holds_alternative<CloseAction>(a)) {
        connected = false;
      }
      f.pump();
      for (auto& more : std::exchange(f.actions, {}))
        actions.push_back(std::move(more));
    }
    if (connected && chance(0.05)) {
      f.core->on_closed(f.conn, 1006, "cut");
      connected = false;
    }
    f.advance(static_cast<std::int64_t>(rng() % 300));
  }
  // Calm network until everything settles.
  for (int step = 0; step < 2000 && !f.core->pending_ops().empty(); ++step) {
    f.pump();
    std::vector<Action> actions = std::exchange(f.actions, {});
    for (std::size_t i = 0; i < actions.size(); ++i) {
      auto& a = actions[i];
      if (auto* o = std::get_if<OpenAction>(&a)) {
        f.core->on_open(o->conn);
        connected = true;
        proto::Welcome w;
        w.user = "alice";
        w.session = "s";
        w.protocol = 1;
        w.heartbeat_ms = 10'000;
        f.core->on_frame(o->conn, w);
      } else if (auto* s = std::get_if<SendAction>(&a)) {
        if (s->conn == f.conn)
          for (auto& r : server.handle(s->frame))
            f.core->on_frame(s->conn, r);
      }
      f.pump();
      for (auto& more : std::exchange(f.actions, {}))
        actions.push_back(std::move(more));
    }
    f.advance(500);
  }
  INFO("seed " << seed);
  if (!f.core->pending_ops().empty()) {
    for (auto& o : f.core->pending_ops())
      MESSAGE("pending op " << o.id << " state " << static_cast<int>(o.state) << " ch "
                            << o.channel);
    MESSAGE("connection state " << static_cast<int>(f.core->state()));
  }
  CHECK(f.core->pending_ops().empty());
  for (auto& [ch, ops] : expected_log)
    CHECK(server.log[ch] == ops);                // every op once, in order
  CHECK(server.edit_target == expected_target);  // each edit hit the message it named
  for (auto& [ch, ids] : expected) {
    CHECK(server.applied[ch] == ids);  // exactly once, in send order
    auto msgs = f.store->messages_from(ch, 1);
    std::vector<std::string> cached;
    for (auto& m : msgs)
      cached.push_back(m.client_id);
    // the cache holds each message at most once, in seq order, matching the server
    for (std::size_t i = 0; i < msgs.size(); ++i)
      CHECK(msgs[i].client_id == ids[static_cast<std::size_t>(msgs[i].seq) - 1]);
  }
}

}  // namespace

TEST_CASE("outbox fuzz: exactly once and in order under drops - duplicates and crashes") {
  // tmpfs when there is one: the invariants do not need real fsyncs, the suite needs speed
  std::filesystem::path dir = std::filesystem::is_directory("/dev/shm")
                                  ? "/dev/shm"
                                  : std::filesystem::temp_directory_path();
  std::string path = (dir / ("chatsdk_fuzz_" + std::to_string(::getpid()) + ".db")).string();
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    for (const char* s : {"", "-wal", "-shm"})
      std::filesystem::remove(path + s);
    run_seed(seed, path);
  }
  for (const char* s : {"", "-wal", "-shm"})
    std::filesystem::remove(path + s);
}
