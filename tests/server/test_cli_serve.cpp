// The real chatsdk-server binary end to end: start, /healthz, hello/welcome
// over a real WebSocket, metrics, admin auth, SIGTERM drain (exit 0), restart
// on the same data directory.
#include <doctest/doctest.h>

#include <sstream>
#include <thread>

#include "support/server_process.hpp"
#include "support/ws_client.hpp"

using chatsdk::test::http_request;
using chatsdk::test::mint_token;
using chatsdk::test::ServerProcess;
using chatsdk::test::split_frames;
using chatsdk::test::WsClient;

namespace {

std::string hello(const std::string& token) {
  return R"({"type":"hello","token":")" + token + R"(","protocol":1})";
}

/// Receives until a frame of `type` arrives (other frames skipped).
std::optional<std::string> recv_frame(WsClient& ws, const std::string& type,
                                      int timeout_ms = 5000) {
  const std::string needle = R"("type":")" + type + "\"";
  for (int i = 0; i < 20; ++i) {
    auto msg = ws.recv_text(timeout_ms);
    if (!msg) return std::nullopt;
    for (auto& f : split_frames(*msg)) {
      if (f.find(needle) != std::string::npos) return f;
    }
  }
  return std::nullopt;
}

double sample(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

}  // namespace

TEST_CASE("serve: hello/welcome over the real binary, metrics, admin auth, SIGTERM exits 0") {
  auto server = ServerProcess::start(CHATSDK_SERVER_BINARY);
  REQUIRE_MESSAGE(server.ok(), (server.ok() ? "" : server.error().message));
  auto& s = **server;

  auto health = http_request(s.port(), "GET", "/healthz");
  CHECK(health.status == 200);

  auto ws = WsClient::connect("127.0.0.1", s.port());
  REQUIRE(ws.ok());
  CHECK(ws->send_text(hello(mint_token(s.secret(), "alice", 3600))));
  auto welcome = recv_frame(*ws, "welcome");
  REQUIRE_MESSAGE(welcome, s.log_text());
  CHECK(welcome->find(R"("user":"alice")") != std::string::npos);

  auto bad = WsClient::connect("127.0.0.1", s.port());
  REQUIRE(bad.ok());
  CHECK(bad->send_text(hello(mint_token("not-the-secret-0123456789", "mallory", 3600))));
  CHECK(bad->wait_closed(5000) == 4001);

  auto metrics = http_request(s.port(), "GET", "/metrics");
  CHECK(metrics.status == 200);
  CHECK(sample(metrics.body, "chatsdk_connections_open") >= 1);
  CHECK(sample(metrics.body, "chatsdk_sessions_authenticated") == 1);

  CHECK(http_request(s.port(), "GET", "/admin/channels").status == 401);

  int status = -1;
  std::thread stopper([&] { status = s.terminate(); });
  CHECK(ws->wait_closed(5000) == 1001);  // going_away, read while the server drains
  stopper.join();
  CHECK(status == 0);
  const std::string log = s.log_text();
  CHECK(log.find(R"("event":"drain_start")") != std::string::npos);
  CHECK(log.find(R"("event":"drain_done")") != std::string::npos);
  CHECK(log.find(s.secret()) == std::string::npos);  // never log secrets

  REQUIRE(s.restart().ok());
  CHECK(http_request(s.port(), "GET", "/healthz").status == 200);
  CHECK(s.terminate() == 0);
}

TEST_CASE(
    "serve: a reader keeps up through a fan-out burst, a client that stops reading gets 4009") {
  auto server = ServerProcess::start(
      CHATSDK_SERVER_BINARY,
      {"--send-queue-max-bytes", "65536", "--sends-per-second", "1000000", "--send-burst",
       "1000000", "--frames-per-second", "1000000", "--frame-burst", "1000000"});
  REQUIRE_MESSAGE(server.ok(), (server.ok() ? "" : server.error().message));
  auto& s = **server;
  auto login = [&](const std::string& user, WsClient::Options o = {}) {
    auto ws = WsClient::connect("127.0.0.1", s.port(), o);
    REQUIRE(ws.ok());
    REQUIRE(ws->send_text(hello(mint_token(s.secret(), user, 600))));
    REQUIRE(recv_frame(*ws, "welcome"));
    return std::move(*ws);
  };
  auto alice = login("alice");
  auto bob = login("bob");
  WsClient::Options small;
  small.receive_buffer_bytes = 4096;
  auto slow = login("slow", small);
  REQUIRE(alice.send_text(
      R"({"type":"channel_create","id":1,"client_id":"mk-firehose","kind":"group","channel":"firehose","members":["bob","slow"]})"));
  REQUIRE(recv_frame(alice, "channel"));

  // ~3 MB pipelined: the store commits it in large groups, each fanned out at once.
  constexpr int kSends = 400;
  const std::string body(8000, 'z');
  std::thread sender([&] {
    for (int i = 0; i < kSends; ++i) {
      alice.send_text(R"({"type":"send","id":)" + std::to_string(i + 10) +
                      R"(,"channel":"firehose","client_id":"fh)" + std::to_string(i) +
                      R"(","body":")" + body + "\"}");
    }
  });
  int received = 0;
  while (received < kSends) {
    auto msg = bob.recv_text(5000);
    if (!msg) break;
    for (auto& f : split_frames(*msg)) {
      if (f.find(R"("type":"message")") != std::string::npos) ++received;
    }
  }
  sender.join();
  CHECK(received == kSends);
  CHECK(slow.wait_closed(10000) == 4009);
  auto metrics = http_request(s.port(), "GET", "/metrics");
  CHECK(sample(metrics.body, "chatsdk_slow_consumer_disconnects_total") == 1);
}
