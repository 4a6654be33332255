// HTTP endpoints on the WebSocket port: /healthz, /metrics, /admin (bearer),
// unknown paths — through the real transport; plus the metrics text format.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>
#include <thread>

#include "server/http/metrics_text.hpp"
#include "server/http/router.hpp"
#include "test_transport_fixture.hpp"

using chatsdk::server::Config;
using chatsdk::server::Metrics;
using chatsdk::server::testing::Fixture;
using chatsdk::test::http_request;

namespace {

/// The value of the sample line `name` (exact, including labels), or -1.
double sample(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

}  // namespace

TEST_CASE("http: /healthz is 200 when healthy and 503 when the engine is not") {
  Fixture f;
  auto r = http_request(f.port(), "GET", "/healthz");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"status":"ok"})");
  CHECK(r.headers["content-type"].rfind("application/json", 0) == 0);
  f.engine->is_healthy = false;
  CHECK(http_request(f.port(), "GET", "/healthz").status == 503);
}

TEST_CASE("http: unknown paths are 404 JSON") {
  Fixture f;
  auto r = http_request(f.port(), "GET", "/nope");
  CHECK(r.status == 404);
  CHECK(r.body.find(R"("code":"not_found")") != std::string::npos);
}

TEST_CASE("http: /metrics exposes counters, histogram, errors and process stats") {
  Fixture f;
  f.on_loop([&] {
    f.metrics.errors_by_code[static_cast<int>(chatsdk::Errc::rate_limited)] = 3;
    f.metrics.observe_commit_us(300);
    f.metrics.observe_commit_us(7000);
    f.metrics.wal_checkpoints = 4;
  });
  auto r = http_request(f.port(), "GET", "/metrics");
  REQUIRE(r.status == 200);
  CHECK(r.headers["content-type"].rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(r.body.find("# TYPE chatsdk_frames_in_total counter") != std::string::npos);
  CHECK(r.body.find("# TYPE chatsdk_connections_open gauge") != std::string::npos);
  CHECK(sample(r.body, "chatsdk_connections_open") == 0);
  CHECK(sample(r.body, R"(chatsdk_errors_total{code="rate_limited"})") == 3);
  CHECK(sample(r.body, R"(chatsdk_commit_latency_seconds_bucket{le="0.00025"})") == 0);
  CHECK(sample(r.body, R"(chatsdk_commit_latency_seconds_bucket{le="0.0005"})") == 1);
  CHECK(sample(r.body, R"(chatsdk_commit_latency_seconds_bucket{le="0.01"})") == 2);
  CHECK(sample(r.body, R"(chatsdk_commit_latency_seconds_bucket{le="+Inf"})") == 2);
  CHECK(sample(r.body, "chatsdk_commit_latency_seconds_count") == 2);
  CHECK(sample(r.body, "chatsdk_commit_latency_seconds_sum") == doctest::Approx(0.0073));
  CHECK(sample(r.body, "chatsdk_commits_total") == 2);
  CHECK(sample(r.body, "chatsdk_wal_checkpoints_total") == 4);
  CHECK(sample(r.body, "process_resident_memory_bytes") > 1e6);
  CHECK(sample(r.body, "process_open_fds") > 3);
  // Every non-comment line is "name[{labels}] value".
  std::istringstream in(r.body);
  std::string line;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    ++samples;
    CHECK(line.find(' ') != std::string::npos);
    CHECK((line.rfind("chatsdk_", 0) == 0 || line.rfind("process_", 0) == 0));
  }
  CHECK(samples > 20);
}

TEST_CASE("http: admin API is 404 without a configured token") {
  Fixture f;
  auto r = http_request(f.port(), "GET", "/admin/channels", "", {{"Authorization", "Bearer "}});
  CHECK(r.status == 404);
}

TEST_CASE("http: admin API requires the bearer token, the engine answers asynchronously") {
  Config cfg;
  cfg.admin_token = "s3cret-admin-token";
  Fixture f(cfg);
  CHECK(http_request(f.port(), "GET", "/admin/channels").status == 401);
  CHECK(http_request(f.port(), "GET", "/admin/channels", "", {{"Authorization", "Bearer wrong"}})
            .status == 401);
  CHECK(http_request(f.port(), "GET", "/admin/channels", "",
                     {{"Authorization", "Basic s3cret-admin-token"}})
            .status == 401);
  auto ok = http_request(f.port(), "GET", "/admin/channels?limit=5", "",
                         {{"Authorization", "Bearer s3cret-admin-token"}});
  CHECK(ok.status == 200);
  CHECK(ok.body == R"({"method":"GET","path":"/admin/channels","query":"limit=5","body_bytes":0})");

  const std::string body = R"({"users":["alice","bob"]})";
  auto post = http_request(f.port(), "POST", "/admin/channels/general/members", body,
                           {{"Authorization", "Bearer s3cret-admin-token"}});
  CHECK(post.status == 200);
  CHECK(post.body.find(R"("path":"/admin/channels/general/members")") != std::string::npos);
  CHECK(post.body.find(R"("body_bytes":)" + std::to_string(body.size())) != std::string::npos);
}

TEST_CASE("http: request bodies over 1 MiB are refused with 413") {
  Config cfg;
  cfg.admin_token = "tok-tok-tok-tok";
  Fixture f(cfg);
  auto r = http_request(f.port(), "POST", "/admin/x", std::string(1024 * 1024 + 10, 'x'),
                        {{"Authorization", "Bearer tok-tok-tok-tok"}});
  CHECK(r.status == 413);
}

TEST_CASE("http: constant_time_equal") {
  using chatsdk::server::http::constant_time_equal;
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "abcd"));
  CHECK_FALSE(constant_time_equal("", ""));  // an empty token never matches
}

TEST_CASE("http: metrics text renders nonzero error codes only") {
  Metrics m;
  m.frames_in = 7;
  auto text = chatsdk::server::http::render_metrics(m, {});
  CHECK(sample(text, "chatsdk_frames_in_total") == 7);
  CHECK(text.find("chatsdk_errors_total{") == std::string::npos);
}

TEST_CASE("http: an admin reply arriving after the client left is dropped safely") {
  Config cfg;
  cfg.admin_token = "late-late-late-late";
  Fixture f(cfg);
  for (int i = 0; i < 20; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(f.port());
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    const std::string req =
        "GET /admin/slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer late-late-late-late\r\n\r\n";
    REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
    ::close(fd);  // gone before the engine answers
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(http_request(f.port(), "GET", "/healthz").status == 200);
  CHECK(http_request(f.port(), "GET", "/admin/x", "",
                     {{"Authorization", "Bearer late-late-late-late"}})
            .status == 200);
}
