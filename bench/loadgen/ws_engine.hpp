// Event-driven WebSocket client engine for the load generator: one epoll loop,
// non-blocking sockets, a minimal hand-written RFC 6455 client (masked text
// frames out; unmasked, possibly fragmented frames in). Thousands of
// connections per process; nothing here allocates per frame on the hot path
// except the growth of a connection's buffers.
//
// Frames queued during one loop iteration leave in one write() per connection
// at the end of the iteration (flush), so a burst costs one syscall.
//
//   Loop loop(handler);
//   Conn* c = loop.connect(endpoint, tag, source_ip);
//   ... handler.on_open(*c) -> c->send_text("{...}");
//   loop.run_until([&] { return done; }, 5000);
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace chatsdk::bench {

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  std::string path = "/";
  sockaddr_in addr{};
};

/// Parses ws://127.x.y.z:port/path; refuses anything that is not loopback.
bool parse_ws_url(std::string_view url, Endpoint& out, std::string& error);

class Loop;

class Conn {
 public:
  enum class State { connecting, upgrading, open, closed };

  State state() const { return state_; }
  std::uint32_t tag() const { return tag_; }
  /// Queues one masked text frame; it leaves at the end of this loop iteration.
  void send_text(std::string_view payload);
  /// Drops the TCP connection with no close frame (like ws.terminate()).
  void terminate();
  /// Sends a close frame (1000) and closes the socket.
  void close_normal();
  double last_tx_ms() const { return last_tx_; }
  int close_code() const { return close_code_; }

 private:
  friend class Loop;
  Conn(Loop& loop, std::uint32_t tag) : loop_(&loop), tag_(tag) {}
  void on_event(std::uint32_t events);
  void on_writable_connect();
  void on_readable();
  bool parse_handshake();
  void parse_frames(char* data, std::size_t len, std::size_t& consumed);
  void send_control(std::uint8_t opcode, std::string_view payload);
  void append_frame(std::uint8_t opcode, std::string_view payload);
  void flush();
  void fail(int code, const char* why);
  void close_fd();

  Loop* loop_;
  std::uint32_t tag_;
  int fd_ = -1;
  State state_ = State::connecting;
  bool queued_ = false;    // in the loop's flush list
  bool want_out_ = false;  // EPOLLOUT registered
  int close_code_ = 0;
  double last_tx_ = 0;
  std::string key_;
  std::string in_;   // leftover bytes of an incomplete frame / handshake
  std::string out_;  // bytes not yet written
  std::size_t out_off_ = 0;
  std::string frag_;  // fragmented message being assembled
  bool in_frag_ = false;
};

/// What the engine reports. `data` of on_message is writable, `len` bytes long
/// and followed by a NUL (in-situ parsing); it is valid during the call only.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual void on_open(Conn& c) = 0;
  virtual void on_message(Conn& c, char* data, std::size_t len) = 0;
  /// Called once per connection that closed without terminate() by us.
  /// code: WebSocket close code, or 1006 for a dropped/failed connection.
  virtual void on_closed(Conn& c, int code, const char* why) = 0;
};

class Loop {
 public:
  explicit Loop(Handler& h);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  /// Starts a connection. `source` (network order, 0 = any) selects the local
  /// address so one process can exceed ~28k connections per target.
  std::unique_ptr<Conn> connect(const Endpoint& ep, std::uint32_t tag, in_addr_t source = 0);
  /// Keeps a connection object alive until the current iteration is over (a
  /// connection must never be destroyed from inside one of its callbacks).
  void retire(std::unique_ptr<Conn> c);

  /// One iteration: wait up to timeout_ms, dispatch, tick, flush.
  void poll(int timeout_ms);
  /// Iterates until pred() or max_ms elapsed; returns pred().
  bool run_until(const std::function<bool()>& pred, double max_ms);
  void run_for(double ms) {
    run_until([] { return false; }, ms);
  }
  /// Called once per iteration (schedulers, timeouts, samplers).
  std::function<void()> on_tick;
  /// Longest wait per iteration; 1 ms while an open-loop schedule runs.
  int max_wait_ms = 10;

  std::uint64_t frames_out() const { return frames_out_; }
  std::uint64_t writes() const { return writes_; }

 private:
  friend class Conn;
  Handler& h_;
  int ep_;
  std::vector<Conn*> dirty_;
  std::vector<std::unique_ptr<Conn>> graveyard_;
  std::vector<char> rbuf_;
  std::uint32_t rng_ = 0x9e3779b9u;
  std::uint64_t frames_out_ = 0, writes_ = 0;
  std::uint32_t next_mask();
};

}  // namespace chatsdk::bench
