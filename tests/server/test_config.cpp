// Config loading: defaults < file < env < flags; file syntax; validation.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "server/config_load.hpp"
#include "support/server_process.hpp"

using namespace chatsdk::server;

namespace {

struct FakeEnv {
  std::map<std::string, std::string> vars;
  GetEnv fn() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

std::string temp_file(const std::string& text) {
  const std::string path = "/tmp/chatsdk-config-test-" + chatsdk::test::random_hex(6);
  std::ofstream(path) << text;
  return path;
}

CommandLine parse(std::vector<const char*> args) {
  args.insert(args.begin(), "chatsdk-server");
  auto r = parse_command_line(static_cast<int>(args.size()), args.data());
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return *r;
}

}  // namespace

TEST_CASE("config: precedence is defaults < file < env < flags") {
  const std::string file = temp_file(
      "# a comment\n"
      "listen_port = 9001\n"
      "data_dir = \"/srv/chat data\"   # quoted, with a comment after\n"
      "heartbeat_ms = 20000\n"
      "max_frame_bytes = 32768\n"
      "allowed_origins = https://a.example, https://b.example\n"
      "\n"
      "durability = full\n");
  FakeEnv env;
  env.vars["CHATSDK_HEARTBEAT_MS"] = "15000";
  env.vars["CHATSDK_MAX_FRAME_BYTES"] = "16384";
  env.vars["CHATSDK_JWT_SECRET"] = "env-secret-env-secret";
  auto cmd = parse(
      {"--config", file.c_str(), "--max-frame-bytes", "8192", "--secret=flag-secret-flag-secret"});
  auto cfg = load_config(cmd, env.fn());
  REQUIRE(cfg.ok());
  CHECK(cfg->listen_port == 9001);  // file over default
  CHECK(cfg->data_dir == "/srv/chat data");
  CHECK(cfg->durability == Durability::full);
  CHECK(cfg->heartbeat_ms == 15000);    // env over file
  CHECK(cfg->max_frame_bytes == 8192);  // flag over env over file
  CHECK(cfg->jwt_secret == "flag-secret-flag-secret");
  CHECK(cfg->allowed_origins == std::vector<std::string>{"https://a.example", "https://b.example"});
  CHECK(cfg->listen_host == "127.0.0.1");  // default untouched
  CHECK(cfg->send_queue_max_bytes == 1024 * 1024);
  std::remove(file.c_str());
}

TEST_CASE("config: CHATSDK_CONFIG names the file when --config is absent") {
  const std::string file = temp_file("listen_port = 7001\n");
  FakeEnv env;
  env.vars["CHATSDK_CONFIG"] = file;
  auto cfg = load_config(parse({}), env.fn());
  REQUIRE(cfg.ok());
  CHECK(cfg->listen_port == 7001);
  std::remove(file.c_str());
}

TEST_CASE("config: --listen, --data and secret files") {
  const std::string secret = temp_file("  from-a-file-0123456789\n");
  auto cfg = load_config(
      parse({"--listen", "0.0.0.0:9443", "--data", "/tmp/x", "--secret-file", secret.c_str(),
             "--admin-token", "adm", "--log-level", "debug", "--max-db-bytes", "1000000"}),
      FakeEnv{}.fn());
  REQUIRE(cfg.ok());
  CHECK(cfg->listen_host == "0.0.0.0");
  CHECK(cfg->listen_port == 9443);
  CHECK(cfg->data_dir == "/tmp/x");
  CHECK(cfg->jwt_secret == "from-a-file-0123456789");
  CHECK(cfg->admin_token == "adm");
  CHECK(cfg->log_level == "debug");
  CHECK(cfg->max_db_bytes == 1000000);
  std::remove(secret.c_str());
}

TEST_CASE("config: errors name the source and line") {
  Config c;
  auto bad_key = apply_config_text(c, "listen_port = 1\nlisten_prot = 2\n", "x.conf");
  REQUIRE_FALSE(bad_key.ok());
  CHECK(bad_key.error().message.find("x.conf:2") != std::string::npos);
  CHECK(bad_key.error().message.find("listen_prot") != std::string::npos);
  CHECK_FALSE(apply_config_text(c, "listen_port = 70000\n", "x").ok());
  CHECK_FALSE(apply_config_text(c, "listen_port = -1\n", "x").ok());
  CHECK_FALSE(apply_config_text(c, "listen_port\n", "x").ok());
  CHECK_FALSE(apply_config_text(c, "durability = sometimes\n", "x").ok());
  CHECK_FALSE(apply_config_text(c, "data_dir = \"unterminated\n", "x").ok());
  FakeEnv env;
  env.vars["CHATSDK_LISTEN_PORT"] = "eighty";
  auto e = apply_env(c, env.fn());
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().message.find("CHATSDK_LISTEN_PORT") != std::string::npos);
}

TEST_CASE("config: command line errors") {
  std::vector<const char*> unknown = {"chatsdk-server", "--no-such-flag", "1"};
  CHECK_FALSE(parse_command_line(3, unknown.data()).ok());
  std::vector<const char*> missing = {"chatsdk-server", "--listen"};
  CHECK_FALSE(parse_command_line(2, missing.data()).ok());
  std::vector<const char*> bad_listen = {"chatsdk-server", "--listen", "nohost"};
  CHECK_FALSE(parse_command_line(3, bad_listen.data()).ok());
  std::vector<const char*> token_no_user = {"chatsdk-server", "token", "--ttl", "1h"};
  CHECK_FALSE(parse_command_line(4, token_no_user.data()).ok());
  std::vector<const char*> help = {"chatsdk-server", "--help"};
  CHECK(parse_command_line(2, help.data())->command == CommandLine::Command::help);
}

TEST_CASE("config: token subcommand arguments and durations") {
  auto cmd = parse({"token", "--user", "alice", "--ttl", "30m", "--secret", "s"});
  CHECK(cmd.command == CommandLine::Command::token);
  CHECK(cmd.user == "alice");
  CHECK(cmd.ttl_s == 1800);
  CHECK(*parse_duration_s("3600") == 3600);
  CHECK(*parse_duration_s("45s") == 45);
  CHECK(*parse_duration_s("1h") == 3600);
  CHECK(*parse_duration_s("2d") == 172800);
  CHECK_FALSE(parse_duration_s("").ok());
  CHECK_FALSE(parse_duration_s("0").ok());
  CHECK_FALSE(parse_duration_s("1w").ok());
  CHECK_FALSE(parse_duration_s("h").ok());
}

TEST_CASE("config: serving requires a JWT secret") {
  Config c;
  auto r = validate_for_serving(c);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("no JWT secret") != std::string::npos);
  c.jwt_secret = "short";
  CHECK_FALSE(validate_for_serving(c).ok());
  c.jwt_secret = "0123456789abcdef0123";
  CHECK(validate_for_serving(c).ok());
  c.tls_cert = "cert.pem";
  CHECK_FALSE(validate_for_serving(c).ok());  // cert without key
}

TEST_CASE("config: every key is settable from a file and listed in --help") {
  const auto keys = config_keys();
  CHECK(keys.size() >= 30);
  const std::string help = usage();
  for (const auto& k : keys)
    CHECK_MESSAGE(help.find(k) != std::string::npos, k);
}
