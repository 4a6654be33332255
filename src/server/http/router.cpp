#include "server/http/router.hpp"

#include <openssl/crypto.h>

#include <utility>

#include "server/http/metrics_text.hpp"
#include "server/http/process_stats.hpp"

namespace chatsdk::server::http {

bool constant_time_equal(std::string_view a, std::string_view b) {
  // The length is not secret (tokens have a fixed format); the bytes are.
  if (a.size() != b.size() || a.empty()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

HttpResponse json_error(int status, std::string_view code, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.body.reserve(48 + code.size() + message.size());
  // code and message are fixed ASCII strings chosen here: no escaping needed.
  r.body.append(R"({"error":{"code":")")
      .append(code)
      .append(R"(","message":")")
      .append(message)
      .append("\"}}");
  return r;
}

void Router::route(HttpRequest req, std::function<void(HttpResponse)> respond) {
  if (req.path == "/healthz") {
    if (req.method != "GET") {
      return respond(json_error(405, "invalid_argument", "use GET"));
    }
    const bool ok = !draining_ && engine_.healthy();
    HttpResponse r;
    r.status = ok ? 200 : 503;
    r.body = ok ? R"({"status":"ok"})"
                : (draining_ ? R"({"status":"draining"})" : R"({"status":"unhealthy"})");
    return respond(std::move(r));
  }
  if (req.path == "/metrics") {
    if (req.method != "GET") return respond(json_error(405, "invalid_argument", "use GET"));
    HttpResponse r;
    r.content_type = kMetricsContentType;
    r.body = render_metrics(metrics_, read_process_stats());
    return respond(std::move(r));
  }
  if (req.path == "/admin" || req.path.rfind("/admin/", 0) == 0) {
    // An empty token disables the admin API entirely: it does not exist.
    if (config_.admin_token.empty())
      return respond(json_error(404, "not_found", "no such endpoint"));
    constexpr std::string_view kBearer = "Bearer ";
    std::string_view auth = req.authorization;
    const bool has_bearer =
        auth.size() > kBearer.size() && auth.substr(0, kBearer.size()) == kBearer;
    if (!has_bearer || !constant_time_equal(auth.substr(kBearer.size()), config_.admin_token)) {
      return respond(json_error(401, "auth_failed", "admin bearer token required"));
    }
    AdminRequest ar{std::move(req.method), std::move(req.path), std::move(req.query),
                    std::move(req.body)};
    engine_.admin(std::move(ar), [respond = std::move(respond)](AdminResponse a) {
      HttpResponse r;
      r.status = a.status;
      r.body = std::move(a.body);
      respond(std::move(r));
    });
    return;
  }
  respond(json_error(404, "not_found", "no such endpoint"));
}

}  // namespace chatsdk::server::http
