// HTTP endpoints served on the WebSocket port: /healthz, /metrics, /admin/...
// Independent of libwebsockets: the transport parses the request, calls
// route(), and writes whatever `respond` receives (possibly later, for admin
// requests the engine answers asynchronously).
//
//   Router router(config, engine, metrics);
//   router.route(req, [&](HttpResponse r) { write_response(wsi, r); });
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "server/api.hpp"
#include "server/config.hpp"
#include "server/engine.hpp"

namespace chatsdk::server::http {

/// Largest request body read (admin API JSON); larger requests get 413.
inline constexpr std::size_t kMaxRequestBody = 1024 * 1024;

struct HttpRequest {
  std::string method;         // "GET", "POST", ...
  std::string path;           // without the query
  std::string query;          // without '?'
  std::string authorization;  // the Authorization header, verbatim
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

/// Compares in time independent of where the strings differ.
bool constant_time_equal(std::string_view a, std::string_view b);

class Router {
 public:
  Router(const Config& config, EngineApi& engine, const Metrics& metrics)
      : config_(config), engine_(engine), metrics_(metrics) {}

  /// `respond` is called exactly once, now or later (admin), on the loop thread.
  void route(HttpRequest request, std::function<void(HttpResponse)> respond);

  /// While draining /healthz reports 503 so load balancers stop sending.
  void set_draining() { draining_ = true; }

 private:
  const Config& config_;
  EngineApi& engine_;
  const Metrics& metrics_;
  bool draining_ = false;
};

/// {"error":{"code":..., "message":...}} with the status.
HttpResponse json_error(int status, std::string_view code, std::string_view message);

}  // namespace chatsdk::server::http
