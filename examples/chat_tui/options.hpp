// Command line of chatsdk-chat.
#pragma once

#include <string>

namespace chatsdk::tui {

struct Options {
  std::string url = "ws://127.0.0.1:8080/ws";
  std::string user;     ///< required with --secret; otherwise learned on connect
  std::string token;    ///< a ready JWT (--token)
  std::string secret;   ///< the server's JWT secret: the client mints its own tokens
  std::string db;       ///< cache + outbox; default chatsdk-chat-<user>.db
  std::string channel;  ///< channel to open at start
  std::string device = "tui";
};

/// Parses argv into opts. Returns "" on success, "help" for --help, else the error.
std::string parse_options(int argc, char** argv, Options& opts);
/// The --help text.
const char* usage();

}  // namespace chatsdk::tui
