// chatsdk-server: the reference server.
//
//   chatsdk-server --config chatsdk.conf            serve (see --help)
//   chatsdk-server token --user alice --ttl 1h ...  print a user token (for development)
//
// Exit status: 0 after a graceful drain (SIGTERM/SIGINT), 1 when the server
// cannot start (port, database), 2 for bad configuration or usage.
#include <libwebsockets.h>
#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>

#include "common/auth/jwt.hpp"
#include "common/util/clock.hpp"
#include "server/config_load.hpp"
#include "server/engine.hpp"
#include "server/log.hpp"
#include "server/store/store.hpp"
#include "server/transport/lws_transport.hpp"

namespace {

using namespace chatsdk;
using namespace chatsdk::server;

int fail_usage(const std::string& message) {
  std::fprintf(stderr, "chatsdk-server: %s\n", message.c_str());
  return 2;
}

log::Level level_of(const std::string& s) {
  if (s == "debug") return log::Level::debug;
  if (s == "warn") return log::Level::warn;
  if (s == "error") return log::Level::error;
  return log::Level::info;
}

int mint(const CommandLine& cmd, const Config& config) {
  if (config.jwt_secret.empty()) {
    return fail_usage(
        "token: no secret: pass --secret S, --secret-file F, --config FILE or set "
        "CHATSDK_JWT_SECRET");
  }
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  auth::Claims claims;
  claims.sub = cmd.user;
  claims.iat = now;
  claims.exp = now + cmd.ttl_s;
  std::printf("%s\n", auth::sign_hs256(claims, config.jwt_secret).c_str());
  return 0;
}

// glibc returns freed memory at the top of a heap once it exceeds 128 KiB and
// grows the heap again on the next burst: for the store threads' arenas that
// is an mprotect() per grow, ~80 per second at 2k msgs/s (each one a TLB
// shootdown across the process's threads). Keep up to 32 MiB of free heap and
// grow in 4 MiB steps: measured -4% CPU per 1:1 message, the same RSS per idle
// connection (docs/benchmarks.md).
void tune_malloc() {
  mallopt(M_TRIM_THRESHOLD, 32 << 20);
  mallopt(M_TOP_PAD, 4 << 20);
}

int serve(const Config& config) {
  tune_malloc();
  log::set_level(level_of(config.log_level));
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    log::error("data_dir_failed", {{"dir", config.data_dir}, {"error", ec.message()}});
    return 1;
  }

  Metrics metrics;
  SystemClock clock;
  LwsTransport transport(config, metrics);
  if (auto r = transport.listen(); !r) {
    log::error("listen_failed", {{"error", r.error().message}});
    return 1;
  }
  auto store = store::make_sqlite_store(config, transport, metrics);
  auto engine =
      make_engine(EngineDeps{config, transport, transport, metrics, clock, std::move(store)});
  if (!engine) {
    log::error("startup_failed", {{"error", engine.error().message}});
    return 1;
  }
  log::info("serving",
            {{"ws", std::string(config.tls_cert.empty() ? "ws://" : "wss://") + config.listen_host +
                        ":" + std::to_string(transport.port()) + "/ws"},
             {"data_dir", config.data_dir},
             {"durability", config.durability == Durability::full ? "full" : "normal"},
             {"admin_api", !config.admin_token.empty()}});
  if (auto r = transport.run(**engine); !r) {
    log::error("serve_failed", {{"error", r.error().message}});
    return 1;
  }
  log::info("exit", {{"status", 0}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Writes to a peer that vanished must fail with EPIPE, not kill the server.
  std::signal(SIGPIPE, SIG_IGN);

  auto cmd = parse_command_line(argc, argv);
  if (!cmd) return fail_usage(cmd.error().message);
  switch (cmd->command) {
    case CommandLine::Command::help:
      std::fputs(usage().c_str(), stdout);
      return 0;
    case CommandLine::Command::version:
      std::printf("chatsdk-server 0.1.0 (protocol 1, libwebsockets %s)\n",
                  lws_get_library_version());
      return 0;
    case CommandLine::Command::token:
    case CommandLine::Command::serve:
      break;
  }
  auto config =
      load_config(*cmd, [](const char* name) -> const char* { return std::getenv(name); });
  if (!config) return fail_usage(config.error().message);
  if (cmd->command == CommandLine::Command::token) return mint(*cmd, *config);
  if (auto r = validate_for_serving(*config); !r) return fail_usage(r.error().message);
  return serve(*config);
}
