// A blocking, minimal WebSocket client for tests (RFC 6455 over a plain TCP
// socket, hand-written so tests do not depend on the code they test).
//
// Contract: one thread uses a client at a time. Client frames are masked;
// server pings are answered while receiving; fragmented messages are
// reassembled; a server close is answered and its code kept (close_code()).
// A failed upgrade's Error message starts with "HTTP <status>".
//
//   auto ws = test::WsClient::connect("127.0.0.1", port);
//   REQUIRE(ws);
//   ws->send_text(R"({"type":"hello","token":"...","protocol":1})");
//   auto msg = ws->recv_text(2000);   // one whole WebSocket message
//   auto frames = test::split_frames(*msg);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chatsdk/result.hpp"

namespace chatsdk::test {

class WsClient {
 public:
  struct Options {
    std::string path = "/ws";
    std::string origin;                      // empty: no Origin header (a non-browser client)
    std::string subprotocol = "chatsdk.v1";  // empty: offer none
    int receive_buffer_bytes = 0;  // >0: SO_RCVBUF before connecting (slow-consumer tests)
    int timeout_ms = 5000;         // connect + handshake
  };

  static Result<WsClient> connect(const std::string& host, std::uint16_t port,
                                  const Options& options);
  static Result<WsClient> connect(const std::string& host, std::uint16_t port,
                                  std::string path = "/ws", std::string origin = "");

  WsClient(WsClient&& other) noexcept;
  WsClient& operator=(WsClient&& other) noexcept;
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;
  ~WsClient();

  /// One text message. False when the connection is gone.
  bool send_text(std::string_view text);
  /// One frame with any opcode (0x1 text, 0x2 binary, 0x0 continuation,
  /// 0x9 ping...) and FIN as given — for invalid UTF-8, binary and fragments.
  bool send_raw_frame(std::uint8_t opcode, std::string_view payload, bool fin = true);
  /// The next whole text (or binary) message; nullopt on timeout or close.
  std::optional<std::string> recv_text(int timeout_ms);
  /// Receives until the server closes (or the timeout): its close code.
  std::optional<int> wait_closed(int timeout_ms);
  /// The code the server closed with (after a close was received).
  std::optional<int> close_code() const { return close_code_; }
  std::string close_reason() const { return close_reason_; }
  /// True once the server closed or the socket failed.
  bool closed() const { return fd_ < 0 || close_code_.has_value() || eof_; }
  /// Sends a close frame and closes the socket.
  void close(std::uint16_t code = 1000);
  /// The subprotocol the server selected ("" for none).
  const std::string& subprotocol() const { return accepted_protocol_; }

 private:
  explicit WsClient(int fd) : fd_(fd) {}
  bool write_all(std::string_view bytes);
  /// Reads at least `n` buffered bytes; false on timeout/EOF.
  bool fill(std::size_t n, long long deadline_ms);

  int fd_ = -1;
  std::string rbuf_;
  std::optional<int> close_code_;
  std::string close_reason_;
  bool eof_ = false;
  bool sent_close_ = false;
  std::string accepted_protocol_;
};

/// Splits a batched message into its '\n'-separated frames (skips empty lines).
std::vector<std::string> split_frames(std::string_view message);

}  // namespace chatsdk::test
