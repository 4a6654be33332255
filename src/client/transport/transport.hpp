// The seam between the client driver and the network.
//
// A Transport opens WebSocket connections named by the core's connection ids,
// sends text messages, and reports what happened as TransportEvents that the
// driver pulls after service(). Events are queued, never delivered by
// re-entrant callback, so the core is never called from inside I/O code.
// Not thread-safe, except wake(), which any thread may call.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "chatsdk/result.hpp"

namespace chatsdk::client {

struct TransportEvent {
  enum class Kind { opened, message, closed, failed } kind = Kind::opened;
  std::uint64_t conn = 0;
  std::string data;        // message: the text; closed/failed: reason
  std::uint16_t code = 0;  // closed: WebSocket close code (1006 = abnormal)
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual void open(std::uint64_t conn) = 0;
  virtual void send(std::uint64_t conn, std::string text) = 0;
  virtual void close(std::uint64_t conn, std::uint16_t code) = 0;
  /// Runs ready I/O, waiting at most timeout_ms (0 = never block) or until wake().
  virtual void service(int timeout_ms) = 0;
  /// Thread-safe: interrupts a blocking service().
  virtual void wake() noexcept = 0;
  std::deque<TransportEvent>& events() { return events_; }

 protected:
  std::deque<TransportEvent> events_;
};

/// Parsed ws:// or wss:// URL.
struct WsUrl {
  bool tls = false;
  std::string host;
  int port = 0;
  std::string path;  // starts with '/'; default "/ws"
};
Result<WsUrl> parse_ws_url(const std::string& url);

}  // namespace chatsdk::client
