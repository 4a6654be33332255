// The WebSocket engine against a scripted server on a loopback socket.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "clock.hpp"
#include "ws_engine.hpp"

using namespace chatsdk::bench;

namespace {

struct Recorder : Handler {
  std::vector<std::string> messages;
  int opened = 0, closed = 0, close_code = 0;
  void on_open(Conn& c) override {
    ++opened;
    c.send_text("first");
    c.send_text(std::string(300, 'm'));  // 16-bit length
  }
  void on_message(Conn&, char* data, std::size_t len) override {
    CHECK(data[len] == '\0');  // in-situ parsing contract
    messages.emplace_back(data, len);
  }
  void on_closed(Conn&, int code, const char*) override {
    ++closed;
    close_code = code;
  }
};

std::string server_frame(std::uint8_t b0, const std::string& payload) {
  std::string f(1, static_cast<char>(b0));
  const auto n = payload.size();
  if (n < 126) {
    f += static_cast<char>(n);
  } else if (n < 65536) {
    f += static_cast<char>(126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xff);
  } else {
    f += static_cast<char>(127);
    for (int s = 56; s >= 0; s -= 8)
      f += static_cast<char>((n >> s) & 0xff);
  }
  return f + payload;
}

/// Reads one masked client frame from fd (blocking); returns opcode and payload.
std::pair<int, std::string> read_client_frame(int fd) {
  auto read_n = [&](std::size_t n) {
    std::string s(n, '\0');
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = ::read(fd, s.data() + got, n - got);
      REQUIRE(r > 0);
      got += static_cast<std::size_t>(r);
    }
    return s;
  };
  const auto h = read_n(2);
  const int opcode = static_cast<unsigned char>(h[0]) & 0x0f;
  REQUIRE((static_cast<unsigned char>(h[1]) & 0x80) != 0);  // clients must mask
  std::size_t n = static_cast<unsigned char>(h[1]) & 0x7f;
  if (n == 126) {
    const auto e = read_n(2);
    n = (static_cast<std::size_t>(static_cast<unsigned char>(e[0])) << 8) |
        static_cast<unsigned char>(e[1]);
  }
  const auto mask = read_n(4);
  auto p = read_n(n);
  for (std::size_t i = 0; i < n; ++i)
    p[i] = static_cast<char>(p[i] ^ mask[i & 3]);
  return {opcode, p};
}

}  // namespace

TEST_CASE("engine: handshake, masked frames out, fragmented/large/batched frames in, ping, close") {
  const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(lfd, 4) == 0);
  socklen_t alen = sizeof addr;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &alen);

  Recorder rec;
  Loop loop(rec);
  Endpoint ep;
  std::string err;
  REQUIRE(parse_ws_url("ws://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/ws", ep, err));
  auto conn = loop.connect(ep, 7, 0);
  REQUIRE(conn->tag() == 7);
  loop.poll(50);  // connect completes, upgrade request leaves
  const int sfd = ::accept(lfd, nullptr, nullptr);
  REQUIRE(sfd >= 0);
  std::string req;
  char buf[4096];
  while (req.find("\r\n\r\n") == std::string::npos) {
    loop.poll(5);
    const ssize_t r = ::recv(sfd, buf, sizeof buf, MSG_DONTWAIT);
    if (r > 0) req.append(buf, static_cast<std::size_t>(r));
  }
  CHECK(req.rfind("GET /ws HTTP/1.1\r\n", 0) == 0);
  CHECK(req.find("Sec-WebSocket-Protocol: chatsdk.v1") != std::string::npos);
  const auto kpos = req.find("Sec-WebSocket-Key: ") + 19;
  const std::string key =
      req.substr(kpos, req.find("\r\n", kpos) - kpos) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char sha[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(key.data()), key.size(), sha);
  unsigned char accept[64];
  EVP_EncodeBlock(accept, sha, SHA_DIGEST_LENGTH);
  // the 101 and the first frames arrive in one segment: leftover bytes must be parsed
  std::string resp =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "sec-websocket-accept: " +
      std::string(reinterpret_cast<char*>(accept)) + "\r\n\r\n";
  resp += server_frame(0x81, "a\nb");  // a batch of two frames
  resp += server_frame(0x01, "frag") + server_frame(0x89, "hb") + server_frame(0x80, "mented");
  resp += server_frame(0x81, std::string(70000, 'z'));  // 64-bit length
  REQUIRE(::send(sfd, resp.data(), resp.size(), 0) == static_cast<ssize_t>(resp.size()));

  loop.run_until([&] { return rec.messages.size() >= 3; }, 2000);
  CHECK(rec.opened == 1);
  REQUIRE(rec.messages.size() == 3);
  CHECK(rec.messages[0] == "a\nb");
  CHECK(rec.messages[1] == "fragmented");
  CHECK(rec.messages[2] == std::string(70000, 'z'));

  auto f1 = read_client_frame(sfd);
  CHECK(f1 == std::make_pair(1, std::string("first")));
  auto f2 = read_client_frame(sfd);
  CHECK(f2 == std::make_pair(1, std::string(300, 'm')));
  auto pong = read_client_frame(sfd);
  CHECK(pong == std::make_pair(10, std::string("hb")));

  // a split frame: header now, payload later
  const std::string late = server_frame(0x81, "late");
  ::send(sfd, late.data(), 3, 0);
  loop.poll(20);
  ::send(sfd, late.data() + 3, late.size() - 3, 0);
  loop.run_until([&] { return rec.messages.size() >= 4; }, 2000);
  REQUIRE(rec.messages.size() == 4);
  CHECK(rec.messages[3] == "late");

  // server close 4001: answered, reported once
  const std::string close_payload{static_cast<char>(4001 >> 8), static_cast<char>(4001 & 0xff)};
  const std::string cf = server_frame(0x88, close_payload);
  ::send(sfd, cf.data(), cf.size(), 0);
  loop.run_until([&] { return rec.closed > 0; }, 2000);
  CHECK(rec.closed == 1);
  CHECK(rec.close_code == 4001);
  CHECK(conn->state() == Conn::State::closed);
  auto echo = read_client_frame(sfd);
  CHECK(echo.first == 8);
  ::close(sfd);
  ::close(lfd);
}

TEST_CASE("engine: terminate() drops the connection without a close frame and without a callback") {
  const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(lfd, 4) == 0);
  socklen_t alen = sizeof addr;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &alen);
  Recorder rec;
  Loop loop(rec);
  Endpoint ep;
  std::string err;
  REQUIRE(parse_ws_url("ws://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/ws", ep, err));
  auto conn = loop.connect(ep, 1, 0);
  loop.poll(50);
  const int sfd = ::accept(lfd, nullptr, nullptr);
  REQUIRE(sfd >= 0);
  conn->terminate();
  loop.retire(std::move(conn));
  loop.poll(10);
  CHECK(rec.closed == 0);
  // the peer sees EOF after at most the upgrade request: no close frame
  std::string got;
  char buf[4096];
  for (;;) {
    const ssize_t r = ::recv(sfd, buf, sizeof buf, 0);
    if (r <= 0) break;
    got.append(buf, static_cast<std::size_t>(r));
  }
  CHECK(got.find("\x88") == std::string::npos);
  ::close(sfd);
  ::close(lfd);
}
