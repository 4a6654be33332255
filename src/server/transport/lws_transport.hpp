// The server's transport: libwebsockets 4.1 on a libuv loop. One listening
// port serves the WebSocket endpoint (/ws, subprotocol chatsdk.v1) and the
// HTTP endpoints (/healthz, /metrics, /admin/...).
//
// It implements Wire (bounded, coalescing send queues per session) and
// LoopPoster (any thread -> loop thread), and feeds the engine socket events.
//
// Lifecycle, all on one thread (the loop thread) except request_drain()/post():
//   LwsTransport t(config, metrics);
//   if (auto r = t.listen(); !r) fail(r.error());     // binds; port() valid
//   auto engine = make_engine({config, t, t, metrics, clock, std::move(store)});
//   t.run(**engine);   // serves until SIGTERM/SIGINT/request_drain() finished draining
//
// Drain: stop accepting (listen socket closed, /healthz 503, upgrades 503),
// engine.drain(done); when done and the sessions it closed have finished their
// close handshakes (at most ~6 s), the loop stops and run() returns success.
// A second SIGTERM/SIGINT, or a drain still unfinished after 30 s, stops at
// once and run() returns an error.
//
// Binary WebSocket messages are not part of the protocol (text only): the
// transport answers each with error{code: malformed_frame} and drops it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "chatsdk/result.hpp"
#include "server/api.hpp"
#include "server/config.hpp"
#include "server/engine.hpp"

namespace chatsdk::server {

class LwsTransport final : public Wire, public LoopPoster {
 public:
  LwsTransport(const Config& config, Metrics& metrics);
  ~LwsTransport() override;
  LwsTransport(const LwsTransport&) = delete;
  LwsTransport& operator=(const LwsTransport&) = delete;

  /// Creates the loop and the lws context and binds the port. Fails when the
  /// port cannot be bound, TLS files cannot be loaded, or libwebsockets could
  /// not attach to libuv (libwebsockets-evlib-uv missing).
  [[nodiscard]] Result<void> listen();
  /// The bound port (useful with listen_port 0). Valid after listen().
  std::uint16_t port() const;

  /// Serves until a drain completes. SIGTERM/SIGINT start the drain while
  /// running. The engine must outlive run(); it gets no callbacks after.
  [[nodiscard]] Result<void> run(EngineApi& engine);

  /// Any thread: start the graceful drain (as SIGTERM does).
  void request_drain();

  // Wire (loop thread)
  bool send(SessionId session, Bytes frame) override;
  void close(SessionId session, proto::CloseCode code, std::string_view reason) override;
  // LoopPoster (any thread)
  void post(std::function<void()> fn) override;

  struct Impl;  // public so the C callbacks can reach it; defined in the .cpp

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace chatsdk::server
