// A protocol-level test peer: one WebSocket connection to the real server,
// typed frames in and out (the shared codec), replies matched by request id
// and events kept in arrival order.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/protocol/codec.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

namespace chatsdk::test {

inline long long steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class Peer {
 public:
  /// Connects and authenticates as `user` (fails the test on error).
  static std::unique_ptr<Peer> login(const ServerProcess& server, const std::string& user);
  /// Connects without authenticating.
  static std::unique_ptr<Peer> connect(const ServerProcess& server);

  /// Sends a client frame; returns the request id it was given (frames without
  /// an id field get none).
  proto::RequestId send(proto::ClientFrame frame);
  void send_raw(std::string_view text) { ws_.send_text(text); }
  WsClient& ws() { return ws_; }

  /// Waits for the reply to `id` (any frame carrying that id), buffering events.
  std::optional<proto::ServerFrame> reply(proto::RequestId id, int timeout_ms = 5000);
  /// Sends and waits for the reply.
  std::optional<proto::ServerFrame> request(proto::ClientFrame frame, int timeout_ms = 5000);
  /// The next event (frame without an id) of type F, skipping other events.
  template <class F>
  std::optional<F> event(int timeout_ms = 3000) {
    auto f = next_matching([](const proto::ServerFrame& s) { return std::holds_alternative<F>(s); },
                           timeout_ms);
    if (!f) return std::nullopt;
    return std::get<F>(*f);
  }
  /// True when no event of type F arrives within `timeout_ms`.
  template <class F>
  bool no_event(int timeout_ms = 300) {
    return !event<F>(timeout_ms).has_value();
  }
  /// Everything received so far that nobody consumed.
  std::deque<proto::ServerFrame>& pending() { return pending_; }
  std::optional<int> wait_closed(int timeout_ms = 5000) { return ws_.wait_closed(timeout_ms); }
  const std::string& user() const { return user_; }

 private:
  explicit Peer(WsClient ws) : ws_(std::move(ws)) {}
  template <class Pred>
  std::optional<proto::ServerFrame> next_matching(Pred pred, int timeout_ms);
  bool receive(int timeout_ms);

  WsClient ws_;
  std::string user_;
  std::deque<proto::ServerFrame> pending_;
  proto::RequestId next_id_ = 1;
};

/// The request id of a server frame (0 for events).
proto::RequestId reply_id(const proto::ServerFrame& frame);
/// Error code of an error frame, or Errc::ok when it is not one.
Errc error_code(const std::optional<proto::ServerFrame>& frame);
/// A hello frame as raw JSON.
std::string hello_json(const std::string& token);

template <class Pred>
std::optional<proto::ServerFrame> Peer::next_matching(Pred pred, int timeout_ms) {
  const auto deadline = steady_now_ms() + timeout_ms;
  for (;;) {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (pred(*it)) {
        auto f = std::move(*it);
        pending_.erase(it);
        return f;
      }
    }
    const auto left = deadline - steady_now_ms();
    if (left <= 0 || !receive(static_cast<int>(left))) return std::nullopt;
  }
}

}  // namespace chatsdk::test
