// The WebSocket transport through real sockets: lws on libuv in-process,
// a blocking test client on the other end.
#include <doctest/doctest.h>

#include <signal.h>

#include <unistd.h>
#include <thread>

#include "support/ws_client.hpp"
#include "test_transport_fixture.hpp"

using chatsdk::server::Config;
using chatsdk::server::testing::Fixture;
using chatsdk::test::split_frames;
using chatsdk::test::WsClient;

namespace {

WsClient connect_ok(Fixture& f, WsClient::Options o = {}) {
  auto c = WsClient::connect("127.0.0.1", f.port(), o);
  REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  return std::move(*c);
}

}  // namespace

TEST_CASE("transport: text round trip with and without the chatsdk.v1 subprotocol") {
  Fixture f;
  REQUIRE(f.listen_result.ok());
  auto a = connect_ok(f);
  CHECK(a.subprotocol() == "chatsdk.v1");
  CHECK(a.send_text("hello there"));
  CHECK(a.recv_text(3000) == std::optional<std::string>("hello there"));

  WsClient::Options none;
  none.subprotocol = "";
  auto b = connect_ok(f, none);
  CHECK(b.send_text("no subprotocol"));
  CHECK(b.recv_text(3000) == std::optional<std::string>("no subprotocol"));

  CHECK(f.wait_for([&] { return f.engine->open.size() == 2; }));
  CHECK(f.on_loop([&] { return f.metrics.connections_open; }) == 2);
  a.close();
  CHECK(f.wait_for(
      [&] { return f.engine->disconnected.size() == 1 && f.metrics.connections_open == 1; }));
  CHECK(f.on_loop([&] { return f.metrics.connections_total; }) == 2);
}

TEST_CASE("transport: a client offering only another subprotocol is refused") {
  Fixture f;
  WsClient::Options o;
  o.subprotocol = "other.v9";
  auto c = WsClient::connect("127.0.0.1", f.port(), o);
  CHECK_FALSE(c.ok());
}

TEST_CASE("transport: frames queued in one turn arrive as one coalesced message") {
  Fixture f;
  auto c = connect_ok(f);
  const auto writes_before = f.on_loop([&] { return f.metrics.ws_writes; });
  CHECK(c.send_text("burst:50"));
  auto msg = c.recv_text(3000);
  REQUIRE(msg);
  const auto frames = split_frames(*msg);
  REQUIRE(frames.size() == 50);
  CHECK(frames.front() == "f0");
  CHECK(frames.back() == "f49");
  CHECK(f.on_loop([&] { return f.metrics.ws_writes; }) == writes_before + 1);
  CHECK(f.on_loop([&] { return f.metrics.frames_out; }) >= 50);
}

TEST_CASE("transport: oversize message is discarded, reported once, connection stays usable") {
  Config cfg;
  cfg.max_frame_bytes = 2000;
  Fixture f(cfg);
  auto c = connect_ok(f);

  CHECK(c.send_text(std::string(5000, 'a')));  // arrives in several rx-buffer-sized pieces
  CHECK(c.recv_text(3000) == std::optional<std::string>("too_large"));
  CHECK(f.on_loop([&] { return f.engine->too_large; }) == 1);

  // Fragmented by the client: over the limit across fragments.
  CHECK(c.send_raw_frame(0x1, std::string(1500, 'b'), false));
  CHECK(c.send_raw_frame(0x0, std::string(1500, 'b'), true));
  CHECK(c.recv_text(3000) == std::optional<std::string>("too_large"));

  // Fragmented but within the limit: reassembled into one message.
  const std::string whole = std::string(900, 'c') + std::string(900, 'd');
  CHECK(c.send_raw_frame(0x1, whole.substr(0, 900), false));
  CHECK(c.send_raw_frame(0x0, whole.substr(900), true));
  CHECK(c.recv_text(3000) == std::optional<std::string>(whole));
  CHECK(f.on_loop([&] { return f.engine->too_large; }) == 2);
  CHECK(c.send_text("still here"));
  CHECK(c.recv_text(3000) == std::optional<std::string>("still here"));
}

TEST_CASE("transport: binary messages are answered with an error and dropped") {
  Fixture f;
  auto c = connect_ok(f);
  CHECK(c.send_raw_frame(0x2, "{\"type\":\"ping\"}"));
  auto msg = c.recv_text(3000);
  REQUIRE(msg);
  CHECK(msg->find("\"code\":\"malformed_frame\"") != std::string::npos);
  CHECK(f.on_loop([&] { return f.engine->messages.size(); }) == 0);
  CHECK(c.send_text("text works"));
  CHECK(c.recv_text(3000) == std::optional<std::string>("text works"));
}

TEST_CASE("transport: Wire::close flushes queued frames, then closes with the code") {
  Fixture f;
  auto c = connect_ok(f);
  CHECK(c.send_text("close:4011"));
  CHECK(c.recv_text(3000) == std::optional<std::string>("bye"));
  CHECK(c.wait_closed(3000) == 4011);
  CHECK(c.close_reason() == "scripted");
  CHECK(f.wait_for([&] { return f.engine->disconnected.size() == 1; }));
}

TEST_CASE("transport: slow consumer is closed with 4009, others are unaffected") {
  Config cfg;
  cfg.send_queue_max_bytes = 64 * 1024;
  Fixture f(cfg);
  WsClient::Options small;
  small.receive_buffer_bytes = 4096;
  auto slow = connect_ok(f, small);
  auto good = connect_ok(f);

  CHECK(slow.send_text("flood"));  // and never read while the server floods
  CHECK(f.wait_for([&] { return f.metrics.slow_consumer_disconnects == 1; }, 10000));
  CHECK(f.on_loop([&] { return f.engine->send_failures.size(); }) == 1);
  CHECK(good.send_text("unaffected"));
  CHECK(good.recv_text(3000) == std::optional<std::string>("unaffected"));

  // Now read: whatever was already in flight, then the close.
  CHECK(slow.wait_closed(5000) == 4009);
  CHECK(f.wait_for([&] { return f.engine->disconnected.size() == 1; }));
  CHECK(f.on_loop([&] { return f.engine->open.size(); }) == 1);
}

TEST_CASE("transport: Origin allow-list is enforced at the handshake") {
  Config cfg;
  cfg.allowed_origins = {"https://app.example"};
  Fixture f(cfg);
  auto evil = WsClient::connect("127.0.0.1", f.port(), "/ws", "https://evil.example");
  REQUIRE_FALSE(evil.ok());
  CHECK(evil.error().message.rfind("HTTP 403", 0) == 0);
  auto good = WsClient::connect("127.0.0.1", f.port(), "/ws", "https://app.example");
  CHECK(good.ok());
  auto native = WsClient::connect("127.0.0.1", f.port(), "/ws", "");  // no Origin: not a browser
  CHECK(native.ok());
  CHECK(f.wait_for([&] { return f.engine->open.size() == 2; }));
  CHECK(f.on_loop([&] { return f.engine->origins.begin()->second; }) == "https://app.example");
}

TEST_CASE("transport: WebSocket upgrade on another path is refused with 404") {
  Fixture f;
  auto c = WsClient::connect("127.0.0.1", f.port(), "/chat", "");
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().message.rfind("HTTP 404", 0) == 0);
}

TEST_CASE("transport: drain closes sessions going_away, stops listening and returns from run") {
  Fixture f;
  auto c = connect_ok(f);
  CHECK(f.wait_for([&] { return f.engine->open.size() == 1; }));
  std::thread stopper([&] { f.stop(); });
  CHECK(c.wait_closed(3000) == 1001);  // reading lets the close handshake finish
  stopper.join();
  CHECK(f.run_result);
  CHECK(f.engine->drained);
  auto again = WsClient::connect("127.0.0.1", f.port());
  CHECK_FALSE(again.ok());
}

TEST_CASE("transport: SIGTERM starts the graceful drain (not lws's abrupt stop)") {
  Fixture f;
  auto c = connect_ok(f);
  CHECK(f.wait_for([&] { return f.engine->open.size() == 1; }));
  ::kill(::getpid(), SIGTERM);  // handled on the loop by the transport's uv signal handle
  CHECK(c.wait_closed(3000) == 1001);
  f.thread.join();
  CHECK(f.run_result);
  CHECK(f.engine->drained);
}

TEST_CASE("transport: listen fails cleanly when the port is taken") {
  Fixture first;
  REQUIRE(first.listen_result.ok());
  Config cfg;
  cfg.listen_port = first.port();
  chatsdk::server::Metrics metrics;
  chatsdk::server::LwsTransport second(cfg, metrics);
  auto r = second.listen();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find(std::to_string(first.port())) != std::string::npos);
}

TEST_CASE(
    "transport: connections past the fd ceiling are closed at accept, the rest keep working") {
  // The lowest free fd now; the transport's own fds and every connection (the
  // client end and the accepted end, both in this process) come after it.
  const int probe = ::dup(0);
  REQUIRE(probe >= 0);
  ::close(probe);
  Config c;
  c.fd_limit = static_cast<std::uint32_t>(probe + 40);
  Fixture f(c);
  REQUIRE(f.listen_result.ok());

  std::vector<WsClient> open;
  bool refused = false;
  for (int i = 0; i < 40 && !refused; ++i) {
    auto client = WsClient::connect("127.0.0.1", f.port(), WsClient::Options{});
    if (client.ok()) {
      open.push_back(std::move(*client));
    } else {
      refused = true;
    }
  }
  REQUIRE(refused);
  CHECK_FALSE(open.empty());
  CHECK(f.wait_for([&] { return f.metrics.refused_fd_limit >= 1; }));

  // Those admitted still work.
  REQUIRE(open.front().send_text("still here"));
  CHECK(open.front().recv_text(3000) == std::optional<std::string>("still here"));

  // Freeing fds lets new connections in again.
  for (auto& o : open)
    o.close();
  CHECK(f.wait_for([&] { return f.metrics.connections_open == 0; }));
  auto again = WsClient::connect("127.0.0.1", f.port(), WsClient::Options{});
  REQUIRE(again.ok());
  CHECK(again->send_text("back"));
  CHECK(again->recv_text(3000) == std::optional<std::string>("back"));
}
