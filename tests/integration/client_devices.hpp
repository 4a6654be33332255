// Helpers for chatsdk::Client integration tests against the real server: a
// scratch directory for the clients' databases, the server process, and
// "devices" (a Client plus every event it emitted) polled from the test thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <doctest/doctest.h>

#include "chatsdk/client.hpp"
#include "support/server_process.hpp"

namespace chatsdk::test {

// A scratch directory for the clients' databases, removed at scope exit
// (declare it before the clients so it outlives them).
struct TempDir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("chatsdk_clientit_" + random_hex(6));
  TempDir() { std::filesystem::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string db(const std::string& name) const { return (path / (name + ".db")).string(); }
};

inline std::unique_ptr<ServerProcess> start_server(std::vector<std::string> args = {}) {
  auto started = ServerProcess::start(CHATSDK_SERVER_BINARY, std::move(args));
  REQUIRE_MESSAGE(started.ok(), (started.ok() ? "" : started.error().message));
  return std::move(*started);
}

inline ClientOptions options_for(const ServerProcess& server, const std::string& db,
                                 std::function<std::string()> tokens, const std::string& device) {
  ClientOptions o;
  o.server_url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/ws";
  o.token_provider = std::move(tokens);
  o.database_path = db;
  o.device_id = device;
  o.backoff = BackoffOptions{50, 500, 2.0};
  return o;
}

// One device: a Client plus every event it emitted (drained on each pump so
// the queue never grows and tests can look back at what happened).
struct Device {
  std::string name;
  std::unique_ptr<Client> client;
  std::vector<Event> events;
  Client* operator->() const { return client.get(); }
};

/// A device of `user` with its own database; tokens minted for an hour
/// unless `tokens` is given.
inline std::unique_ptr<Device> make_device(const ServerProcess& server, const std::string& user,
                                           const std::string& device, const std::string& db,
                                           std::function<std::string()> tokens = nullptr) {
  if (!tokens) {
    std::string secret = server.secret();
    tokens = [secret, user] { return mint_token(secret, user, 3600); };
  }
  auto created = Client::create(options_for(server, db, std::move(tokens), device));
  REQUIRE_MESSAGE(created.ok(), (created.ok() ? "" : created.error().message));
  auto d = std::make_unique<Device>();
  d->name = user + "-" + device;
  d->client = std::move(*created);
  return d;
}

inline void pump(const std::vector<Device*>& devices) {
  for (Device* d : devices) {
    REQUIRE(d->client->poll(10).ok());
    while (auto e = d->client->next_event())
      d->events.push_back(std::move(*e));
  }
}

// Polls every device until `pred` holds or `timeout` passes.
template <class Pred>
bool wait_until(const std::vector<Device*>& devices, Pred pred,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    pump(devices);
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
  }
}

inline bool all_live(const std::vector<Device*>& devices) {
  return std::all_of(devices.begin(), devices.end(),
                     [](Device* d) { return d->client->state() == ConnectionState::live; });
}

/// Connects every device and waits until all are live.
inline void connect_all(const std::vector<Device*>& devices) {
  for (Device* d : devices)
    d->client->connect();
  REQUIRE(wait_until(devices, [&] { return all_live(devices); }));
}

}  // namespace chatsdk::test
