// A minimal protocol-v1 server over real libwebsockets, on a loopback port,
// for testing the client's transport and public API before the reference
// server lands: hello -> welcome, sync -> one channel, send -> sent,
// ping -> pong, anything else with an id -> ok. Runs its own service thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace chatsdk::test {

class FakeServer {
 public:
  /// Plain ws://, or wss:// with the given PEM certificate and key files.
  explicit FakeServer(std::string cert_file = {}, std::string key_file = {});
  ~FakeServer();
  int port() const;
  /// Closes every live session with `code` (from the server thread).
  void kick_all(std::uint16_t code);
  int hellos() const;
  std::vector<std::string> tokens() const;
  std::vector<std::string> frame_types() const;  // every frame received, in order
  std::vector<std::string> sent_bodies() const;

  struct State;

 private:
  std::unique_ptr<State> s_;
};

}  // namespace chatsdk::test
