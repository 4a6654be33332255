// The engine: everything the server does above the transport — per-session
// protocol state, auth, rate limits, routing, fan-out, presence, typing,
// receipts, and the store. The transport feeds it socket events and carries
// its output (Wire). Abstract so the transport can be tested alone.
//
// Threading: every method runs on the loop thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <memory>
#include "chatsdk/result.hpp"

#include "common/util/clock.hpp"
#include "server/api.hpp"
#include "server/config.hpp"
#include "server/store/store.hpp"

namespace chatsdk::server {

/// An admin HTTP request, already authenticated by the transport (bearer token).
struct AdminRequest {
  std::string method;  // "GET", "POST", "PUT", "DELETE"
  std::string path;    // e.g. "/admin/channels/general/members"
  std::string query;   // raw query string without '?'
  std::string body;    // JSON
};

struct AdminResponse {
  int status = 200;
  std::string body;  // JSON
};

class EngineApi {
 public:
  virtual ~EngineApi() = default;

  virtual void on_connect(SessionId session, const ConnectionInfo& info) = 0;
  /// One complete WebSocket message (one or more '\n'-separated frames).
  virtual void on_message(SessionId session, std::string_view message) = 0;
  /// A message over the frame limit arrived and was discarded by the transport.
  virtual void on_frame_too_large(SessionId session) = 0;
  /// The connection is gone (closed by either side, or slow consumer).
  virtual void on_disconnect(SessionId session) = 0;
  /// Called about every 100 ms: timeouts, receipt flushes, token expiry.
  virtual void on_tick() = 0;
  /// Admin API; `done` is called once, on the loop thread (maybe later).
  virtual void admin(AdminRequest request, std::function<void(AdminResponse)> done) = 0;
  /// Graceful shutdown: refuse new work, flush commits, send going_away to
  /// every session; `done` when the store is flushed and closed.
  virtual void drain(std::function<void()> done) = 0;
  /// Liveness for /healthz: false when the store is failing.
  virtual bool healthy() const = 0;
};

/// The engine over a store. `open()` must be called (loads channels) before serving.
class Engine;
struct EngineDeps {
  const Config& config;
  Wire& wire;
  LoopPoster& poster;
  Metrics& metrics;
  const Clock& clock;
  std::unique_ptr<store::Store> store;
};
/// Opens the store, loads state; error when the database cannot be opened.
Result<std::unique_ptr<EngineApi>> make_engine(EngineDeps deps);

}  // namespace chatsdk::server
