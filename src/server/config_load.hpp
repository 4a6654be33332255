// Building the server's Config from, in increasing precedence: defaults
// (config.hpp), a config file, the environment (CHATSDK_*), command-line flags.
//
// Config file: one `key = value` per line, keys are Config field names
// (listen_port = 8080), `#` starts a comment, blank lines are ignored, a value
// may be wrapped in double quotes, lists (allowed_origins) are comma-separated.
// Two extra keys read a secret from a file instead of the command line (where
// `ps` would show it): jwt_secret_file, admin_token_file.
// Environment: CHATSDK_<KEY IN UPPER CASE>, e.g. CHATSDK_JWT_SECRET; and
// CHATSDK_CONFIG names the config file when --config is not given.
// Flags: --<key with dashes> VALUE (or --key=VALUE) for every key, plus the
// short forms --listen HOST:PORT, --data DIR, --secret S, --secret-file F.
//
//   auto cmd = parse_command_line(argc, argv);
//   auto config = load_config(*cmd, ::getenv);
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chatsdk/result.hpp"
#include "server/config.hpp"

namespace chatsdk::server {

/// Sets one Config field (or a *_file pseudo-key) from its text form.
Result<void> set_config_value(Config& config, std::string_view key, std::string_view value);
/// Applies config-file text; errors name `source` and the line.
Result<void> apply_config_text(Config& config, std::string_view text, std::string_view source);
Result<void> apply_config_file(Config& config, const std::string& path);
using GetEnv = std::function<const char*(const char*)>;
/// Applies every CHATSDK_<KEY> variable that is set.
Result<void> apply_env(Config& config, const GetEnv& getenv);
/// Every key the file, env and flags accept.
std::vector<std::string> config_keys();

struct CommandLine {
  enum class Command { serve, token, help, version };
  Command command = Command::serve;
  std::string config_file;                                    // --config
  std::vector<std::pair<std::string, std::string>> settings;  // key -> value, in flag order
  // token subcommand
  std::string user;
  std::int64_t ttl_s = 3600;
};

/// argv[0] is the program name. `chatsdk-server token --user alice --ttl 1h`.
Result<CommandLine> parse_command_line(int argc, const char* const* argv);
/// defaults < file (--config or CHATSDK_CONFIG) < env < flags.
Result<Config> load_config(const CommandLine& cmd, const GetEnv& getenv);
/// What serving needs beyond parsing (a JWT secret, sane limits).
Result<void> validate_for_serving(const Config& config);
/// "3600", "45s", "30m", "1h", "2d" -> seconds (> 0).
Result<std::int64_t> parse_duration_s(std::string_view text);
/// The --help text.
std::string usage();

}  // namespace chatsdk::server
