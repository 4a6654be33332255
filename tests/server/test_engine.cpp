// Engine unit tests: handshake, auth, timers, bad input and rate limits.
#include <doctest/doctest.h>

#include "server/engine/state.hpp"
#include "test_engine_harness.hpp"

namespace chatsdk::server::testing {
namespace {

using proto::CloseCode;

TEST_CASE("engine: hello with a valid token gets welcome") {
  Harness h;
  const SessionId s = h.open();
  h.send(s, proto::Hello{7, h.token("alice"), 1, "dev1", "test/1"});
  auto frames = h.take(s);
  REQUIRE(frames.size() == 1);
  auto* w = std::get_if<proto::Welcome>(&frames[0]);
  REQUIRE(w != nullptr);
  CHECK(w->id == 7);
  CHECK(w->user == "alice");
  CHECK(w->protocol == 1);
  CHECK(w->heartbeat_ms == h.config.heartbeat_ms);
  CHECK(w->limits.max_frame_bytes == h.config.max_frame_bytes);
  CHECK(w->server_time == h.clock.now_ms());
  CHECK(h.metrics.sessions_authenticated == 1);
  CHECK(h.wire.closed.empty());
  h.disconnect(s);
  CHECK(h.metrics.sessions_authenticated == 0);
}

TEST_CASE("engine: bad token, expired token, future token, wrong protocol") {
  Harness h;
  SUBCASE("forged") {
    const SessionId s = h.open();
    h.send(s, proto::Hello{1, mint("alice", h.now_s() + 60, 0, "other-secret"), 1, {}, {}});
    auto e = only_error(h.take(s));
    CHECK(e.code == "auth_failed");
    CHECK(e.id == 1);
    CHECK(h.closed_with(s, CloseCode::auth_failed));
  }
  SUBCASE("garbage") {
    const SessionId s = h.open();
    h.send(s, proto::Hello{0, "abc.def.ghi", 1, {}, {}});
    CHECK(only_error(h.take(s)).code == "auth_failed");
    CHECK(h.closed_with(s, CloseCode::auth_failed));
  }
  SUBCASE("expired") {
    const SessionId s = h.open();
    h.send(s, proto::Hello{1, mint("alice", h.now_s() - 3600), 1, {}, {}});
    CHECK(only_error(h.take(s)).code == "token_expired");
    CHECK(h.closed_with(s, CloseCode::token_expired));
  }
  SUBCASE("not yet valid") {
    const SessionId s = h.open();
    h.send(s, proto::Hello{1, mint("alice", h.now_s() + 7200, h.now_s() + 3600), 1, {}, {}});
    CHECK(only_error(h.take(s)).code == "token_not_yet_valid");
    CHECK(h.closed_with(s, CloseCode::token_expired));
  }
  SUBCASE("protocol 2") {
    const SessionId s = h.open();
    h.send(s, proto::Hello{1, h.token("alice"), 2, {}, {}});
    CHECK(only_error(h.take(s)).code == "unsupported_protocol");
    CHECK(h.closed_with(s, CloseCode::unsupported_protocol));
  }
  CHECK(h.metrics.sessions_authenticated == 0);
}

TEST_CASE("engine: frames before auth are refused, then the handshake times out") {
  Harness h;
  const SessionId s = h.open();
  h.send(s, proto::Ping{5});
  h.send(s, proto::Send{6, "general", "c1", "hi", 0, {}, {}});
  auto frames = h.take(s);
  REQUIRE(frames.size() == 2);
  CHECK(std::get<proto::ErrorFrame>(frames[0]).code == "unauthenticated");
  CHECK(std::get<proto::ErrorFrame>(frames[0]).id == 5);
  CHECK(std::get<proto::ErrorFrame>(frames[1]).id == 6);
  CHECK(h.wire.closed.empty());
  CHECK(h.store->writes == 0);
  h.advance(h.config.handshake_timeout_ms - 100);
  CHECK(h.wire.closed.empty());
  h.advance(200);
  CHECK(h.closed_with(s, CloseCode::auth_timeout));
}

TEST_CASE("engine: an authenticated session is not closed by the handshake timer") {
  Harness h;
  h.login("alice");
  h.advance(h.config.handshake_timeout_ms + 1000);
  CHECK(h.wire.closed.empty());
}

TEST_CASE("engine: ping gets pong with the id, hello twice is invalid_state") {
  Harness h;
  const SessionId s = h.login("alice");
  h.send(s, proto::Ping{42});
  auto pongs = h.take_of<proto::Pong>(s);
  REQUIRE(pongs.size() == 1);
  CHECK(pongs[0].id == 42);
  CHECK(pongs[0].server_time == h.clock.now_ms());
  h.send(s, proto::Hello{3, h.token("alice"), 1, {}, {}});
  CHECK(only_error(h.take(s)).code == "invalid_state");
}

TEST_CASE("engine: a batch is processed frame by frame, bad frames get typed errors") {
  Harness h;
  const SessionId s = h.login("alice");
  h.raw(
      s,
      "{\"type\":\"ping\",\"id\":1}\n{\"type\":\"ping\",\"id\":2,\n\n{\"type\":\"nope\",\"id\":3}\n"
      "{\"type\":\"ping\",\"id\":4}");
  auto frames = h.take(s);
  REQUIRE(frames.size() == 4);
  CHECK(std::get<proto::Pong>(frames[0]).id == 1);
  CHECK(std::get<proto::ErrorFrame>(frames[1]).code == "malformed_frame");
  CHECK(std::get<proto::ErrorFrame>(frames[1]).id == 2);
  CHECK(std::get<proto::ErrorFrame>(frames[2]).code == "unknown_type");
  CHECK(std::get<proto::ErrorFrame>(frames[2]).id == 3);
  CHECK(std::get<proto::Pong>(frames[3]).id == 4);
  CHECK(h.metrics.errors_by_code[static_cast<int>(Errc::malformed_frame)] == 1);
  CHECK(h.wire.closed.empty());
}

TEST_CASE("engine: error details quoting client input stay valid UTF-8") {
  Harness h;
  const SessionId s = h.login("alice");
  std::string name;
  for (int i = 0; i < 40; ++i)
    name += "\xC3\xA9";  // 80 bytes of 'é': cut mid-character at 64
  h.raw(s, "{\"type\":\"" + name + "\",\"id\":5}");
  auto e = only_error(h.take(s));  // take() REQUIREs that the reply decodes
  CHECK(e.code == "unknown_type");
  CHECK(e.id == 5);
}

TEST_CASE("engine: 50 consecutive bad frames close with 4004, a good frame resets the count") {
  Harness h;
  const SessionId s = h.login("alice");
  for (int i = 0; i < 49; ++i)
    h.raw(s, "{oops");
  h.send(s, proto::Ping{1});
  for (int i = 0; i < 49; ++i)
    h.raw(s, "{oops");
  CHECK(h.wire.closed.empty());
  h.raw(s, "[]");
  CHECK(h.closed_with(s, CloseCode::protocol_error));
  // Nothing is processed after the close.
  h.take(s);
  h.send(s, proto::Ping{2});
  CHECK(h.take(s).empty());
}

TEST_CASE("engine: an oversize message gets frame_too_large and the connection stays") {
  Harness h;
  const SessionId s = h.login("alice");
  h.engine->on_frame_too_large(s);
  CHECK(only_error(h.take(s)).code == "frame_too_large");
  CHECK(h.wire.closed.empty());
  h.send(s, proto::Ping{1});
  CHECK(h.take_of<proto::Pong>(s).size() == 1);
}

TEST_CASE("engine: per-connection frame rate limit with retry_after_ms") {
  Harness h({}, [](Config& c) {
    c.frame_burst = 5;
    c.frames_per_second = 10;
  });
  const SessionId s = h.login("alice");  // hello used one token
  std::string batch;
  for (int i = 1; i <= 6; ++i)
    batch += "{\"type\":\"ping\",\"id\":" + std::to_string(i) + "}\n";
  h.raw(s, batch);
  auto frames = h.take(s);
  REQUIRE(frames.size() == 6);
  int pongs = 0;
  for (auto& f : frames)
    pongs += std::holds_alternative<proto::Pong>(f) ? 1 : 0;
  CHECK(pongs == 4);
  auto& e = std::get<proto::ErrorFrame>(frames[4]);
  CHECK(e.code == "rate_limited");
  CHECK(e.id == 5);
  CHECK(e.retry_after_ms > 0);
  CHECK(e.retry_after_ms <= 100);
  CHECK(h.metrics.rate_limited == 2);
  // Tokens come back with time.
  h.advance(100);
  h.send(s, proto::Ping{9});
  CHECK(h.take_of<proto::Pong>(s).size() == 1);
}

TEST_CASE("engine: a client that keeps flooding is closed with 4008") {
  Harness h({}, [](Config& c) {
    c.frame_burst = 10;
    c.frames_per_second = 1;
  });
  const SessionId s = h.login("alice");
  std::string batch;
  for (int i = 0; i < 9 + 199; ++i)
    batch += "{\"type\":\"ping\"}\n";
  h.raw(s, batch);
  CHECK(h.wire.closed.empty());
  h.raw(s, "{\"type\":\"ping\"}");
  CHECK(h.closed_with(s, CloseCode::rate_limited));
  CHECK(h.metrics.rate_limited == 200);
}

TEST_CASE("engine: the per-user send budget is shared by the user's sessions") {
  Harness h(
      [](FakeStore& st) {
        st.add_channel("general", proto::ChannelKind::group, {{"alice", proto::Role::owner}});
      },
      [](Config& c) {
        c.send_burst = 2;
        c.sends_per_second = 1;
      });
  const SessionId a1 = h.login("alice");
  const SessionId a2 = h.login("alice");
  h.send(a1, proto::Send{1, "general", "c1", "one", 0, {}, {}});
  h.send(a2, proto::Send{2, "general", "c2", "two", 0, {}, {}});
  h.send(a1, proto::Send{3, "general", "c3", "three", 0, {}, {}});
  CHECK(h.take_of<proto::Sent>(a1).size() == 1);
  h.send(a1, proto::Send{4, "general", "c4", "four", 0, {}, {}});
  auto errs = h.take_of<proto::ErrorFrame>(a1);
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].code == "rate_limited");
  CHECK(errs[0].id == 4);
  CHECK(errs[0].retry_after_ms > 0);
  CHECK(h.store->chans["general"].messages.size() == 2);
}

TEST_CASE("engine: idle sessions are closed with 4010 after 2.5 heartbeats, pings keep them") {
  Harness h({}, [](Config& c) { c.heartbeat_ms = 1000; });
  const SessionId quiet = h.login("alice");
  const SessionId chatty = h.login("bob");
  for (int i = 0; i < 5; ++i) {
    h.advance(1000);
    h.send(chatty, proto::Ping{});
  }
  CHECK(h.closed_with(quiet, CloseCode::idle_timeout));
  CHECK(h.wire.closed.count(chatty) == 0);
}

TEST_CASE("engine: token expiry notice, close with 4003, and auth_refresh") {
  Harness h({}, [](Config& c) { c.heartbeat_ms = 100'000'000; });
  const SessionId s = h.login("alice", 120);
  const SessionId r = h.login("alice", 120);
  h.take(s);
  h.take(r);
  // exp is 120 s away; the deadline is exp + leeway (150 s), the notice 60 s before it.
  h.advance(89'000);
  CHECK(h.take(s).empty());
  h.advance(2'000);
  auto notices = h.take_of<proto::Notice>(s);
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].code == proto::NoticeCode::token_expiring);

  h.send(r, proto::AuthRefresh{8, h.token("bob", 3600)});
  auto e = h.take_of<proto::ErrorFrame>(r);
  REQUIRE(e.size() == 1);
  CHECK(e[0].code == "auth_failed");
  h.send(r, proto::AuthRefresh{9, h.token("alice", 3600)});
  auto oks = h.take_of<proto::Ok>(r);
  REQUIRE(oks.size() == 1);
  CHECK(oks[0].id == 9);

  h.advance(30'000);  // past exp, within the verifier's leeway
  CHECK(h.wire.closed.count(s) == 0);
  h.advance(h.config.token_leeway_s * 1000);
  CHECK(h.closed_with(s, CloseCode::token_expired));
  CHECK(h.wire.closed.count(r) == 0);
  h.advance(3'600'000);
  CHECK(h.closed_with(r, CloseCode::token_expired));
}

TEST_CASE("engine: healthy() turns false after repeated store failures and recovers") {
  Harness h([](FakeStore& st) {
    st.add_channel("general", proto::ChannelKind::group, {{"alice", proto::Role::owner}});
  });
  const SessionId s = h.login("alice");
  CHECK(h.engine->healthy());
  for (int i = 0; i < 3; ++i) {
    h.store->fail_next = Errc::storage_failed;
    h.send(s, proto::Send{1, "general", "f" + std::to_string(i), "x", 0, {}, {}});
    CHECK(only_error(h.take(s)).code == "storage_failed");
  }
  CHECK_FALSE(h.engine->healthy());
  h.send(s, proto::Send{2, "general", "ok1", "x", 0, {}, {}});
  CHECK(h.take_of<proto::Sent>(s).size() == 1);
  CHECK(h.engine->healthy());
}

TEST_CASE("engine: per-session and per-user state stay small") {
  // Target: a few hundred bytes of engine state per idle authenticated
  // connection (the whole server aims at <= 4 KB RSS each).
  CHECK(sizeof(engine::Session) <= 96);
  CHECK(sizeof(engine::UserEntry) <= 128);
  CHECK(sizeof(engine::MemberSlot) <= 48);
}

}  // namespace
}  // namespace chatsdk::server::testing
