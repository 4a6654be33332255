#include "server/config_load.hpp"

#include <charconv>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

namespace chatsdk::server {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

template <class T>
Result<T> parse_uint(std::string_view key, std::string_view v) {
  std::uint64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() ||
      out > std::numeric_limits<T>::max()) {
    return Error{Errc::invalid_argument, std::string(key) + ": expected an integer 0.." +
                                             std::to_string(std::numeric_limits<T>::max()) +
                                             ", got '" + std::string(v) + "'"};
  }
  return static_cast<T>(out);
}

Result<std::string> read_secret_file(std::string_view key, std::string_view path) {
  std::ifstream f{std::string(path)};
  if (!f)
    return Error{Errc::invalid_argument,
                 std::string(key) + ": cannot read '" + std::string(path) + "'"};
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s(trim(ss.str()));
  if (s.empty())
    return Error{Errc::invalid_argument,
                 std::string(key) + ": '" + std::string(path) + "' is empty"};
  return s;
}

using Setter = std::function<Result<void>(Config&, std::string_view key, std::string_view value)>;

struct Field {
  const char* key;
  Setter set;
};

Field str_field(const char* key, std::string Config::*member) {
  return {key, [member](Config& c, std::string_view, std::string_view v) -> Result<void> {
            c.*member = std::string(v);
            return {};
          }};
}

template <class T>
Field uint_field(const char* key, T Config::*member) {
  return {key, [member](Config& c, std::string_view k, std::string_view v) -> Result<void> {
            auto r = parse_uint<T>(k, v);
            if (!r) return r.error();
            c.*member = *r;
            return {};
          }};
}

const std::vector<Field>& fields() {
  static const std::vector<Field> kFields = {
      str_field("listen_host", &Config::listen_host),
      uint_field("listen_port", &Config::listen_port),
      str_field("tls_cert", &Config::tls_cert),
      str_field("tls_key", &Config::tls_key),
      Field{"allowed_origins",
            [](Config& c, std::string_view, std::string_view v) -> Result<void> {
              c.allowed_origins.clear();
              while (!v.empty()) {
                const auto comma = v.find(',');
                std::string_view item = trim(v.substr(0, comma));
                if (!item.empty()) c.allowed_origins.emplace_back(item);
                if (comma == std::string_view::npos) break;
                v.remove_prefix(comma + 1);
              }
              return {};
            }},
      uint_field("max_frame_bytes", &Config::max_frame_bytes),
      uint_field("handshake_timeout_ms", &Config::handshake_timeout_ms),
      uint_field("heartbeat_ms", &Config::heartbeat_ms),
      uint_field("send_queue_max_bytes", &Config::send_queue_max_bytes),
      uint_field("fd_limit", &Config::fd_limit),
      str_field("jwt_secret", &Config::jwt_secret),
      Field{"jwt_secret_file",
            [](Config& c, std::string_view k, std::string_view v) -> Result<void> {
              auto s = read_secret_file(k, v);
              if (!s) return s.error();
              c.jwt_secret = std::move(*s);
              return {};
            }},
      str_field("admin_token", &Config::admin_token),
      Field{"admin_token_file",
            [](Config& c, std::string_view k, std::string_view v) -> Result<void> {
              auto s = read_secret_file(k, v);
              if (!s) return s.error();
              c.admin_token = std::move(*s);
              return {};
            }},
      uint_field("token_leeway_s", &Config::token_leeway_s),
      str_field("data_dir", &Config::data_dir),
      Field{"durability",
            [](Config& c, std::string_view k, std::string_view v) -> Result<void> {
              if (v == "normal") {
                c.durability = Durability::normal;
              } else if (v == "full") {
                c.durability = Durability::full;
              } else {
                return Error{Errc::invalid_argument, std::string(k) + ": expected normal or full"};
              }
              return {};
            }},
      uint_field("group_commit_max_delay_us", &Config::group_commit_max_delay_us),
      uint_field("group_commit_target_ops", &Config::group_commit_target_ops),
      uint_field("group_commit_max_ops", &Config::group_commit_max_ops),
      uint_field("max_db_bytes", &Config::max_db_bytes),
      uint_field("max_body_bytes", &Config::max_body_bytes),
      uint_field("max_metadata_bytes", &Config::max_metadata_bytes),
      uint_field("history_max", &Config::history_max),
      uint_field("sync_channel_max", &Config::sync_channel_max),
      uint_field("sync_total_max", &Config::sync_total_max),
      uint_field("too_far_behind", &Config::too_far_behind),
      uint_field("sends_per_second", &Config::sends_per_second),
      uint_field("send_burst", &Config::send_burst),
      uint_field("frames_per_second", &Config::frames_per_second),
      uint_field("frame_burst", &Config::frame_burst),
      uint_field("typing_per_second", &Config::typing_per_second),
      uint_field("max_members", &Config::max_members),
      uint_field("small_channel_threshold", &Config::small_channel_threshold),
      uint_field("receipt_flush_ms", &Config::receipt_flush_ms),
      Field{"log_level",
            [](Config& c, std::string_view k, std::string_view v) -> Result<void> {
              if (v != "debug" && v != "info" && v != "warn" && v != "error") {
                return Error{Errc::invalid_argument,
                             std::string(k) + ": expected debug, info, warn or error"};
              }
              c.log_level = std::string(v);
              return {};
            }},
  };
  return kFields;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& ch : out) {
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
  }
  return out;
}

Result<void> set_listen(Config& c, std::string_view v) {
  const auto colon = v.rfind(':');
  if (colon == std::string_view::npos) {
    return Error{Errc::invalid_argument,
                 "--listen: expected HOST:PORT, got '" + std::string(v) + "'"};
  }
  std::string_view host = v.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  auto port = parse_uint<std::uint16_t>("--listen port", v.substr(colon + 1));
  if (!port) return port.error();
  c.listen_host = std::string(host);
  c.listen_port = *port;
  return {};
}

}  // namespace

std::vector<std::string> config_keys() {
  std::vector<std::string> keys;
  for (const Field& f : fields())
    keys.emplace_back(f.key);
  return keys;
}

Result<void> set_config_value(Config& config, std::string_view key, std::string_view value) {
  if (key == "listen") return set_listen(config, value);
  for (const Field& f : fields()) {
    if (key == f.key) return f.set(config, key, value);
  }
  return Error{Errc::invalid_argument, "unknown setting '" + std::string(key) + "'"};
}

Result<void> apply_config_text(Config& config, std::string_view text, std::string_view source) {
  std::size_t line_no = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    // A '#' starts a comment unless it is inside a quoted value.
    const auto eq = line.find('=');
    const auto hash = line.find('#');
    if (hash != std::string_view::npos && (eq == std::string_view::npos || hash < eq))
      line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    const std::string where = std::string(source) + ":" + std::to_string(line_no) + ": ";
    if (eq == std::string_view::npos || eq >= line.size()) {
      return Error{Errc::invalid_argument, where + "expected 'key = value'"};
    }
    std::string_view key = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"') {
      const auto close = value.find('"', 1);
      if (close == std::string_view::npos)
        return Error{Errc::invalid_argument, where + "unterminated quote"};
      std::string_view rest = trim(value.substr(close + 1));
      if (!rest.empty() && rest.front() != '#')
        return Error{Errc::invalid_argument, where + "text after quoted value"};
      value = value.substr(1, close - 1);
    } else if (const auto h = value.find('#'); h != std::string_view::npos) {
      value = trim(value.substr(0, h));
    }
    if (auto r = set_config_value(config, key, value); !r) {
      return Error{Errc::invalid_argument, where + r.error().message};
    }
  }
  return {};
}

Result<void> apply_config_file(Config& config, const std::string& path) {
  std::ifstream f(path);
  if (!f) return Error{Errc::invalid_argument, "cannot read config file '" + path + "'"};
  std::stringstream ss;
  ss << f.rdbuf();
  return apply_config_text(config, ss.str(), path);
}

Result<void> apply_env(Config& config, const GetEnv& getenv) {
  if (const char* v = getenv("CHATSDK_LISTEN")) {
    if (auto r = set_listen(config, v); !r)
      return Error{Errc::invalid_argument, "CHATSDK_LISTEN: " + r.error().message};
  }
  for (const Field& f : fields()) {
    const std::string name = "CHATSDK_" + upper(f.key);
    if (const char* v = getenv(name.c_str())) {
      if (auto r = f.set(config, f.key, v); !r) {
        return Error{Errc::invalid_argument, name + ": " + r.error().message};
      }
    }
  }
  return {};
}

Result<std::int64_t> parse_duration_s(std::string_view text) {
  std::int64_t unit = 1;
  std::string_view digits = text;
  if (!text.empty()) {
    switch (text.back()) {
      case 's':
        unit = 1;
        digits.remove_suffix(1);
        break;
      case 'm':
        unit = 60;
        digits.remove_suffix(1);
        break;
      case 'h':
        unit = 3600;
        digits.remove_suffix(1);
        break;
      case 'd':
        unit = 86400;
        digits.remove_suffix(1);
        break;
      default:
        break;
    }
  }
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() || n <= 0 ||
      n > std::numeric_limits<std::int64_t>::max() / unit / 2) {
    return Error{
        Errc::invalid_argument,
        "expected a duration like 3600, 45s, 30m, 1h or 2d, got '" + std::string(text) + "'"};
  }
  return n * unit;
}

Result<CommandLine> parse_command_line(int argc, const char* const* argv) {
  CommandLine cmd;
  int i = 1;
  if (i < argc && std::string_view(argv[i]) == "token") {
    cmd.command = CommandLine::Command::token;
    ++i;
  }
  static const std::pair<std::string_view, std::string_view> kAliases[] = {
      {"listen", "listen"},
      {"data", "data_dir"},
      {"secret", "jwt_secret"},
      {"secret-file", "jwt_secret_file"}};
  for (; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      cmd.command = CommandLine::Command::help;
      return cmd;
    }
    if (arg == "--version") {
      cmd.command = CommandLine::Command::version;
      return cmd;
    }
    if (arg.substr(0, 2) != "--" || arg.size() == 2) {
      return Error{Errc::invalid_argument,
                   "unexpected argument '" + std::string(arg) + "' (see --help)"};
    }
    arg.remove_prefix(2);
    std::string_view name = arg;
    std::string value;
    bool have_value = false;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = std::string(arg.substr(eq + 1));
      have_value = true;
    }
    if (!have_value) {
      if (i + 1 >= argc)
        return Error{Errc::invalid_argument, "--" + std::string(name) + " needs a value"};
      value = argv[++i];
    }
    if (name == "config") {
      cmd.config_file = value;
      continue;
    }
    if (cmd.command == CommandLine::Command::token && name == "user") {
      cmd.user = value;
      continue;
    }
    if (cmd.command == CommandLine::Command::token && name == "ttl") {
      auto ttl = parse_duration_s(value);
      if (!ttl) return Error{Errc::invalid_argument, "--ttl: " + ttl.error().message};
      cmd.ttl_s = *ttl;
      continue;
    }
    std::string key;
    for (const auto& [alias, target] : kAliases) {
      if (name == alias) key = std::string(target);
    }
    if (key.empty()) {
      key = std::string(name);
      for (char& ch : key) {
        if (ch == '-') ch = '_';
      }
    }
    // Validate now so a typo fails before anything starts.
    Config scratch;
    if (auto r = set_config_value(scratch, key, value); !r) {
      if (r.error().message.rfind("unknown setting", 0) == 0) {
        return Error{Errc::invalid_argument,
                     "unknown option --" + std::string(name) + " (see --help)"};
      }
      return Error{Errc::invalid_argument, "--" + std::string(name) + ": " + r.error().message};
    }
    cmd.settings.emplace_back(std::move(key), std::move(value));
  }
  if (cmd.command == CommandLine::Command::token && cmd.user.empty()) {
    return Error{Errc::invalid_argument, "token: --user ID is required"};
  }
  return cmd;
}

Result<Config> load_config(const CommandLine& cmd, const GetEnv& getenv) {
  Config config;
  std::string file = cmd.config_file;
  if (file.empty()) {
    if (const char* f = getenv("CHATSDK_CONFIG")) file = f;
  }
  if (!file.empty()) {
    if (auto r = apply_config_file(config, file); !r) return r.error();
  }
  if (auto r = apply_env(config, getenv); !r) return r.error();
  for (const auto& [key, value] : cmd.settings) {
    if (auto r = set_config_value(config, key, value); !r) return r.error();
  }
  return config;
}

Result<void> validate_for_serving(const Config& config) {
  if (config.jwt_secret.empty()) {
    return Error{
        Errc::invalid_argument,
        "no JWT secret configured: set jwt_secret (or jwt_secret_file) in the config file, "
        "CHATSDK_JWT_SECRET, or --secret / --secret-file. It must be the HS256 key your app "
        "backend signs user tokens with."};
  }
  if (config.jwt_secret.size() < 16) {
    return Error{
        Errc::invalid_argument,
        "the JWT secret is too short: use at least 16 bytes (32 random bytes recommended)"};
  }
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    return Error{Errc::invalid_argument, "TLS needs both tls_cert and tls_key"};
  }
  if (config.max_frame_bytes == 0 || config.max_frame_bytes > 64 * 1024) {
    return Error{Errc::invalid_argument, "max_frame_bytes must be 1..65536"};
  }
  if (config.send_queue_max_bytes < 64 * 1024) {
    return Error{Errc::invalid_argument, "send_queue_max_bytes must be at least 65536"};
  }
  return {};
}

std::string usage() {
  std::string u =
      "Usage:\n"
      "  chatsdk-server [--config FILE] [OPTIONS]      serve\n"
      "  chatsdk-server token --user ID [--ttl 1h] [--secret S | --secret-file F | --config FILE]\n"
      "                                                print a user token (JWT HS256) signed with "
      "the secret\n"
      "\n"
      "Settings come from defaults < config file < environment (CHATSDK_<KEY>) < flags.\n"
      "Config file: 'key = value' lines, '#' comments; keys are the names below.\n"
      "\n"
      "Common options:\n"
      "  --listen HOST:PORT        listen address (default 127.0.0.1:8080)\n"
      "  --data DIR                data directory (default ./var)\n"
      "  --secret S                JWT HS256 secret shared with your app backend (required)\n"
      "  --secret-file F           read the JWT secret from a file\n"
      "  --admin-token T           bearer token for the /admin HTTP API (empty = admin disabled)\n"
      "  --durability normal|full  full = fsync every commit (survives power loss)\n"
      "  --tls-cert F --tls-key F  serve wss/https\n"
      "  --log-level L             debug, info, warn, error\n"
      "  --max-db-bytes N          storage quota in bytes (0 = unlimited)\n"
      "\n"
      "Every setting is also a flag (--key-with-dashes VALUE) and an env var (CHATSDK_KEY):\n ";
  std::size_t col = 1;
  for (const auto& k : config_keys()) {
    if (col + k.size() + 1 > 78) {
      u += "\n ";
      col = 1;
    }
    u += " " + k;
    col += k.size() + 1;
  }
  u += "\n";
  return u;
}

}  // namespace chatsdk::server
