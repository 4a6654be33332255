// Test fixture for the sans-IO core: a manual clock, an in-memory (or file)
// SQLite store, and helpers to play the server's side frame by frame.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "client/core/core.hpp"

namespace chatsdk::client::test {

inline proto::Message msg(const std::string& ch, Seq seq, Version v, const std::string& sender,
                          const std::string& body, const std::string& client_id = {}) {
  proto::Message m;
  m.channel = ch;
  m.seq = seq;
  m.version = v;
  m.sender = sender;
  m.body = body;
  m.client_id = client_id;
  m.created_at = 1'700'000'000'000 + static_cast<std::int64_t>(seq) * 1000;
  return m;
}

inline proto::ChannelInfo info(const std::string& ch, Seq last_seq = 0, Version v = 0) {
  proto::ChannelInfo i;
  i.channel = ch;
  i.kind = proto::ChannelKind::group;
  i.name = ch;
  i.member_count = 2;
  i.last_seq = last_seq;
  i.version = v;
  i.created_at = 1'600'000'000'000;
  return i;
}

struct CoreFixture {
  ManualClock clock{1'700'000'000'000, 0};
  std::unique_ptr<Store> store;
  std::unique_ptr<Core> core;
  CoreOptions options;
  std::string token = "tok.en.1";
  std::uint32_t max_body = 16384;  // announced in welcome.limits
  int token_calls = 0;
  ConnId conn = 0;
  std::vector<proto::ClientFrame> frames;  // everything sent, in order
  std::vector<Action> actions;
  std::vector<Event> events;

  explicit CoreFixture(std::string path = ":memory:", bool make = true) {
    options.seed = 42;
    options.backoff = BackoffOptions{1000, 30'000, 2.0};
    if (make) open(path);
  }

  void open(const std::string& path = ":memory:") {
    core.reset();
    store.reset();
    auto s = Store::open(path);
    REQUIRE(s.ok());
    store = std::move(*s);
    core = std::make_unique<Core>(options, *store, clock, [this] {
      ++token_calls;
      return token;
    });
    pump();
  }

  /// Collects the core's actions and events.
  void pump() {
    for (auto& a : core->take_actions()) {
      if (auto* o = std::get_if<OpenAction>(&a)) conn = o->conn;
      if (auto* s = std::get_if<SendAction>(&a)) frames.push_back(s->frame);
      actions.push_back(std::move(a));
    }
    while (auto e = core->next_event())
      events.push_back(std::move(*e));
  }

  template <class F>
  std::vector<F> sent() {
    pump();
    std::vector<F> out;
    for (auto& f : frames)
      if (auto* p = std::get_if<F>(&f)) out.push_back(*p);
    return out;
  }
  template <class F>
  std::optional<F> last_sent() {
    auto v = sent<F>();
    if (v.empty()) return std::nullopt;
    return v.back();
  }
  template <class E>
  std::vector<E> events_of() {
    pump();
    std::vector<E> out;
    for (auto& e : events)
      if (auto* p = std::get_if<E>(&e)) out.push_back(*p);
    return out;
  }
  void clear() {
    pump();
    frames.clear();
    actions.clear();
    events.clear();
  }

  void frame(proto::ServerFrame f) {
    core->on_frame(conn, f);
    pump();
  }
  void advance(std::int64_t ms) {
    clock.advance(ms);
    core->tick();
    pump();
  }
  /// Runs timers until `ms` have passed, firing every deadline on time.
  void run_for(std::int64_t ms) {
    std::int64_t end = clock.steady_ms() + ms;
    while (true) {
      auto d = core->next_deadline();
      if (!d || *d > end) break;
      if (*d > clock.steady_ms()) clock.advance(*d - clock.steady_ms());
      core->tick();
      pump();
    }
    if (end > clock.steady_ms()) clock.advance(end - clock.steady_ms());
    core->tick();
    pump();
  }

  /// Fires timers until the core asks for a new connection (a reconnect).
  void await_open() {
    for (int i = 0; i < 1000; ++i) {
      std::size_t before = actions.size();
      auto d = core->next_deadline();
      REQUIRE(d.has_value());
      if (*d > clock.steady_ms()) clock.advance(*d - clock.steady_ms());
      core->tick();
      pump();
      for (std::size_t k = before; k < actions.size(); ++k)
        if (std::holds_alternative<OpenAction>(actions[k])) return;
    }
    FAIL("no reconnect attempt");
  }

  /// Reconnects after a drop: open -> welcome; returns the sync request.
  proto::Sync rehandshake(const std::string& user = "alice") {
    await_open();
    core->on_open(conn);
    pump();
    proto::Welcome w;
    w.user = user;
    w.session = "s2";
    w.protocol = 1;
    w.heartbeat_ms = 10'000;
    frame(w);
    auto s = last_sent<proto::Sync>();
    REQUIRE(s.has_value());
    return *s;
  }

  /// connect -> open -> welcome; returns the first sync request.
  proto::Sync handshake(const std::string& user = "alice", std::uint32_t hb = 10'000) {
    core->connect();
    pump();
    core->on_open(conn);
    pump();
    REQUIRE(last_sent<proto::Hello>().has_value());
    proto::Welcome w;
    w.user = user;
    w.session = "s1";
    w.protocol = 1;
    w.server_time = clock.now_ms();
    w.heartbeat_ms = hb;
    w.limits.max_frame_bytes = 65536;
    w.limits.max_body_bytes = max_body;
    frame(w);
    auto s = last_sent<proto::Sync>();
    REQUIRE(s.has_value());
    return *s;
  }

  /// Full connect with a sync reply holding `channels`.
  void go_live(std::vector<proto::ChannelSync> channels = {}, const std::string& user = "alice") {
    auto s = handshake(user);
    proto::SyncResult r;
    r.id = s.id;
    r.channels = std::move(channels);
    frame(r);
    REQUIRE(core->state() == ConnectionState::live);
  }

  static proto::ChannelSync joined(const std::string& ch, std::vector<proto::Message> page,
                                   Version v, Seq read_seq = 0) {
    proto::ChannelSync cs;
    cs.channel = ch;
    cs.status = proto::SyncStatus::joined;
    Seq last = 0;
    for (auto& m : page)
      last = std::max(last, m.seq);
    cs.info = info(ch, last, v);
    cs.messages = std::move(page);
    cs.version = v;
    cs.head_version = v;
    cs.last_seq = last;
    cs.read_seq = read_seq;
    cs.unread = static_cast<std::uint32_t>(last - read_seq);
    return cs;
  }
};

}  // namespace chatsdk::client::test
