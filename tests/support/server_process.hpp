// Runs the real chatsdk-server binary as a child process for integration
// tests: a free loopback port, a fresh temporary data directory, a random JWT
// secret and admin token. The server's stderr (JSON logs) goes to
// data_dir()/server.log.
//
//   auto server = test::ServerProcess::start(CHATSDK_SERVER_BINARY);
//   REQUIRE(server);
//   auto ws = test::WsClient::connect("127.0.0.1", server->port());
//   ws->send_text(hello(test::mint_token(server->secret(), "alice", 3600)));
//   CHECK(server->terminate() == 0);   // SIGTERM: graceful drain, exit 0
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chatsdk/result.hpp"

namespace chatsdk::test {

class ServerProcess {
 public:
  /// Starts `binary` and waits (up to 10 s) until GET /healthz answers 200.
  static Result<std::unique_ptr<ServerProcess>> start(const std::string& binary,
                                                      std::vector<std::string> extra_args = {});
  ~ServerProcess();  // SIGKILLs a still-running server, removes the data dir
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  std::uint16_t port() const { return port_; }
  const std::string& secret() const { return secret_; }
  const std::string& admin_token() const { return admin_token_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string log_path() const { return data_dir_ + "/server.log"; }
  /// The server's log so far (for failure messages).
  std::string log_text() const;
  bool running();

  /// SIGTERM, then waits up to `timeout_ms` (SIGKILL after). Returns the exit
  /// status (0..255), or 128+signal when killed by a signal.
  int terminate(int timeout_ms = 15000);
  /// SIGKILL (a crash) and reap.
  void kill9();
  /// Starts again on the same port and data directory (after terminate/kill9).
  Result<void> restart();
  /// Whatever the first start() got in extra_args, used again by restart().
  const std::vector<std::string>& extra_args() const { return extra_args_; }

 private:
  ServerProcess() = default;
  Result<void> spawn_and_wait();
  int wait_exit(int timeout_ms);

  std::string binary_;
  std::vector<std::string> extra_args_;
  std::uint16_t port_ = 0;
  std::string secret_, admin_token_, data_dir_;
  pid_t pid_ = -1;
};

struct HttpResult {
  int status = 0;  // 0: no answer
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

/// One HTTP/1.1 request to 127.0.0.1:port (Connection: close).
HttpResult http_request(std::uint16_t port, const std::string& method, const std::string& path,
                        const std::string& body = "",
                        const std::map<std::string, std::string>& headers = {});

/// A JWT (HS256) for `user`, valid from now for ttl_s seconds (negative: already expired).
std::string mint_token(const std::string& secret, const std::string& user, long long ttl_s);

/// A free TCP port on 127.0.0.1 (bound and released; fine for tests).
std::uint16_t free_port();
/// `n` random bytes as lower-case hex.
std::string random_hex(std::size_t n);

}  // namespace chatsdk::test
