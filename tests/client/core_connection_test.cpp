// Connection state machine: handshake, backoff, heartbeats, tokens, suspend.
#include "core_fixture.hpp"

using namespace chatsdk;
using namespace chatsdk::client;
using namespace chatsdk::client::test;

TEST_CASE("core: handshake goes connecting -> authenticating -> syncing -> live") {
  CoreFixture f;
  f.clear();
  f.core->connect();
  f.pump();
  REQUIRE(f.actions.size() == 1);
  CHECK(std::holds_alternative<OpenAction>(f.actions[0]));
  CHECK(f.core->state() == ConnectionState::connecting);
  f.core->on_open(f.conn);
  auto hello = f.last_sent<proto::Hello>();
  REQUIRE(hello);
  CHECK(hello->token == "tok.en.1");
  CHECK(hello->protocol == 1);
  CHECK(f.core->state() == ConnectionState::authenticating);
  f.clear();
  f.go_live();
  std::vector<ConnectionState> seen;
  for (auto& e : f.events_of<ConnectionChanged>())
    seen.push_back(e.state);
  CHECK(seen.back() == ConnectionState::live);
}

TEST_CASE("core: reconnect delays use full jitter - grow - cap - and reset when live") {
  CoreFixture f;
  f.options.backoff = BackoffOptions{1000, 8000, 2.0};
  f.open();
  f.core->connect();
  f.pump();
  std::vector<std::int64_t> delays;
  for (int i = 0; i < 12; ++i) {
    ConnId c = f.conn;
    f.core->on_failed(c, "refused");
    f.pump();
    auto ev = f.events_of<ConnectionChanged>().back();
    CHECK(ev.state == ConnectionState::disconnected);
    REQUIRE(ev.retry_in_ms >= 0);
    delays.push_back(ev.retry_in_ms);
    auto d = f.core->next_deadline();
    REQUIRE(d);
    CHECK(*d == f.clock.steady_ms() + ev.retry_in_ms);
    // nothing happens before the deadline
    f.clear();
    if (ev.retry_in_ms > 0) {
      f.clock.advance(ev.retry_in_ms - 1);
      f.core->tick();
      f.pump();
      CHECK(f.actions.empty());
      f.advance(1);
    } else {
      f.advance(0);
    }
    REQUIRE(f.actions.size() == 1);
    auto* open = std::get_if<OpenAction>(&f.actions[0]);
    REQUIRE(open);
    CHECK(open->conn != c);  // a new connection id
  }
  // ceilings 1000, 2000, 4000, 8000, 8000...: each delay within its ceiling
  std::int64_t ceiling = 1000;
  for (auto d : delays) {
    CHECK(d <= ceiling);
    ceiling = std::min<std::int64_t>(ceiling * 2, 8000);
  }
  // jitter: not all the capped delays are equal
  std::set<std::int64_t> distinct(delays.begin() + 4, delays.end());
  CHECK(distinct.size() > 1);
}

TEST_CASE("core: inputs about an old connection are ignored") {
  CoreFixture f;
  f.go_live();
  ConnId old = f.conn;
  f.core->on_closed(old, 1006, "reset");
  f.await_open();  // reconnects: a new OpenAction
  REQUIRE(f.conn != old);
  auto state = f.core->state();
  f.core->on_closed(old, 1006, "late close of the old socket");
  f.pump();
  CHECK(f.core->state() == state);
}

TEST_CASE("core: pings every heartbeat and drops a silent link after two") {
  CoreFixture f;
  f.go_live();  // heartbeat 10 s
  f.clear();
  f.advance(9'999);
  CHECK(f.sent<proto::Ping>().empty());
  f.advance(1);
  CHECK(f.sent<proto::Ping>().size() == 1);
  f.frame(proto::Pong{0, 0});  // server answers: link alive
  f.advance(10'000);
  CHECK(f.sent<proto::Ping>().size() == 2);
  CHECK(f.core->state() == ConnectionState::live);
  // no frame at all for 2 x heartbeat since the pong
  f.advance(9'999);
  CHECK(f.core->state() == ConnectionState::live);
  f.advance(1);
  CHECK(f.core->state() == ConnectionState::disconnected);
  bool closed = false;
  for (auto& a : f.actions)
    closed |= std::holds_alternative<CloseAction>(a);
  CHECK(closed);
  CHECK(f.events_of<ConnectionChanged>().back().reason == Errc::timeout);
}

TEST_CASE("core: heartbeat override beats the server's interval") {
  CoreFixture f;
  f.options.heartbeat_ms = 3'000;
  f.open();
  f.go_live();
  f.clear();
  f.advance(3'000);
  CHECK(f.sent<proto::Ping>().size() == 1);
}

TEST_CASE("core: handshake timeout drops the attempt") {
  CoreFixture f;
  f.core->connect();
  f.pump();
  f.core->on_open(f.conn);
  f.pump();
  f.advance(10'000);
  CHECK(f.core->state() == ConnectionState::disconnected);
  CHECK(f.events_of<ConnectionChanged>().back().retry_in_ms >= 0);
}

TEST_CASE("core: token_expired close refreshes the token and reconnects at once") {
  CoreFixture f;
  f.go_live();
  int calls = f.token_calls;
  f.token = "tok.en.2";
  f.core->on_closed(f.conn, 4003, "token expired");
  f.pump();
  auto ev = f.events_of<ConnectionChanged>().back();
  CHECK(ev.reason == Errc::token_expired);
  CHECK(ev.retry_in_ms == 0);
  f.clear();
  f.advance(0);
  f.core->on_open(f.conn);
  auto hello = f.last_sent<proto::Hello>();
  REQUIRE(hello);
  CHECK(hello->token == "tok.en.2");
  CHECK(f.token_calls == calls + 1);
}

TEST_CASE("core: notice token_expiring sends auth_refresh with the new token") {
  CoreFixture f;
  f.go_live();
  f.token = "tok.en.3";
  proto::Notice n;
  n.code = proto::NoticeCode::token_expiring;
  f.frame(n);
  auto r = f.last_sent<proto::AuthRefresh>();
  REQUIRE(r);
  CHECK(r->token == "tok.en.3");
}

TEST_CASE("core: auth_failed stops and reports - the same token is not retried") {
  CoreFixture f;
  f.handshake();
  f.core->on_closed(f.conn, 4001, "bad token");
  f.pump();
  auto ev = f.events_of<ConnectionChanged>().back();
  CHECK(ev.state == ConnectionState::disconnected);
  CHECK(ev.reason == Errc::auth_failed);
  CHECK(ev.retry_in_ms == -1);
  CHECK_FALSE(f.core->next_deadline().has_value());
  // connect() again with the provider still returning the rejected token: refused locally
  f.clear();
  f.core->connect();
  f.pump();
  f.core->on_open(f.conn);
  f.pump();
  CHECK(f.sent<proto::Hello>().empty());
  CHECK(f.events_of<ConnectionChanged>().back().reason == Errc::auth_failed);
  // a new token: connects
  f.token = "tok.en.new";
  f.clear();
  f.core->connect();
  f.pump();
  f.core->on_open(f.conn);
  REQUIRE(f.last_sent<proto::Hello>());
  CHECK(f.last_sent<proto::Hello>()->token == "tok.en.new");
}

TEST_CASE("core: an empty token means stay disconnected") {
  CoreFixture f;
  f.token = "";
  f.core->connect();
  f.pump();
  f.core->on_open(f.conn);
  f.pump();
  CHECK(f.sent<proto::Hello>().empty());
  CHECK(f.core->state() == ConnectionState::disconnected);
  CHECK(f.events_of<ConnectionChanged>().back().reason == Errc::auth_failed);
}

TEST_CASE("core: no reconnect attempts while suspended - resume reconnects once") {
  CoreFixture f;
  f.go_live();
  f.clear();
  f.core->prepare_suspend();
  f.pump();
  bool closed = false;
  for (auto& a : f.actions)
    closed |= std::holds_alternative<CloseAction>(a);
  CHECK(closed);
  CHECK_FALSE(f.store->in_transaction());
  CHECK(f.store->active_statements() == 0);
  f.clear();
  f.run_for(10 * 60'000);
  CHECK(f.actions.empty());  // zero attempts while suspended
  f.core->resume();
  f.core->resume();  // idempotent
  f.pump();
  int opens = 0;
  for (auto& a : f.actions)
    opens += std::holds_alternative<OpenAction>(a) ? 1 : 0;
  CHECK(opens == 1);
}

TEST_CASE("core: disconnect stops reconnecting") {
  CoreFixture f;
  f.go_live();
  f.core->disconnect();
  f.clear();
  f.run_for(120'000);
  CHECK(f.actions.empty());
  CHECK(f.core->state() == ConnectionState::disconnected);
}

TEST_CASE("core: unsupported_protocol and kicked are not retried") {
  for (std::uint16_t code : {std::uint16_t{4005}, std::uint16_t{4011}}) {
    CoreFixture f;
    f.go_live();
    f.core->on_closed(f.conn, code, "");
    f.clear();
    f.run_for(120'000);
    CHECK(f.actions.empty());
  }
}

TEST_CASE("core: notice retry_after_ms is the floor of the next reconnect delay") {
  CoreFixture f;
  f.options.backoff = BackoffOptions{100, 200, 2.0};
  f.open();
  f.go_live();
  proto::Notice n;
  n.code = proto::NoticeCode::going_away;
  n.retry_after_ms = 2'000;
  f.frame(n);
  f.core->on_closed(f.conn, 1001, "restart");
  f.pump();
  CHECK(f.events_of<ConnectionChanged>().back().retry_in_ms >= 2'000);
  f.await_open();
  f.core->on_failed(f.conn, "still down");
  f.pump();
  CHECK(f.events_of<ConnectionChanged>().back().retry_in_ms <= 200);  // only once
}
