#include "options.hpp"

#include <fstream>
#include <string_view>

namespace chatsdk::tui {

const char* usage() {
  return "usage: chatsdk-chat --user alice (--token JWT | --secret S | --secret-file F)\n"
         "                    [--url ws://127.0.0.1:8080/ws] [--db alice.db]\n"
         "                    [--channel general] [--device tui]\n"
         "\n"
         "  --token        a JWT for the user (e.g. from `chatsdk-server token --user alice ...`)\n"
         "  --secret       the server's JWT secret: the client mints its own HS256 tokens\n"
         "  --secret-file  read the secret from a file (e.g. var/dev-secret of `make run`)\n"
         "  --db           SQLite cache + offline outbox (default chatsdk-chat-<user>.db)\n"
         "\n"
         "Type a line and press Enter to send it to the open channel. /help lists commands.\n";
}

std::string parse_options(int argc, char** argv, Options& opts) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help") return "help";
    std::string_view name = a;
    std::string value;
    bool have = false;
    if (auto eq = a.find('='); a.substr(0, 2) == "--" && eq != std::string_view::npos) {
      name = a.substr(0, eq);
      value = std::string(a.substr(eq + 1));
      have = true;
    }
    if (!have) {
      if (i + 1 >= argc) return std::string(name) + " needs a value";
      value = argv[++i];
    }
    if (name == "--url")
      opts.url = value;
    else if (name == "--user")
      opts.user = value;
    else if (name == "--token")
      opts.token = value;
    else if (name == "--secret")
      opts.secret = value;
    else if (name == "--secret-file") {
      std::ifstream f(value);
      if (!f) return "cannot read " + value;
      std::getline(f, opts.secret);
      while (!opts.secret.empty() && (opts.secret.back() == '\r' || opts.secret.back() == ' '))
        opts.secret.pop_back();
    } else if (name == "--db")
      opts.db = value;
    else if (name == "--channel")
      opts.channel = value;
    else if (name == "--device")
      opts.device = value;
    else
      return "unknown option " + std::string(name);
  }
  if (opts.token.empty() && opts.secret.empty()) return "give --token, --secret or --secret-file";
  if (!opts.secret.empty() && opts.user.empty()) return "--secret needs --user";
  if (opts.db.empty())
    opts.db = "chatsdk-chat-" + (opts.user.empty() ? "default" : opts.user) + ".db";
  return "";
}

}  // namespace chatsdk::tui
