// chatsdk/options.hpp — configuration of a Client.
//
// Contract: a plain struct with working defaults; only server_url,
// token_provider and database_path must be set.
//
//   chatsdk::ClientOptions o;
//   o.server_url = "wss://chat.example.com/ws";
//   o.token_provider = [] { return fetch_jwt_from_my_backend(); };
//   o.database_path = "/data/chat.db";
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace chatsdk {

/// Reconnect delays: attempt n waits uniform(0, min(max_ms, initial_ms * factor^n))
/// ("full jitter").
struct BackoffOptions {
  std::uint32_t initial_ms = 500;
  std::uint32_t max_ms = 30'000;
  double factor = 2.0;
};

struct ClientOptions {
  /// ws:// or wss:// URL; path defaults to /ws.
  std::string server_url;
  /// Returns a JWT for this user. Called on the loop thread (connect, expiry,
  /// refresh); keep it fast (return a cached token, refresh it in the background).
  /// An empty string means "no token available": the client stays disconnected.
  std::function<std::string()> token_provider;
  /// wss:// only: PEM file of the CA certificates to trust instead of the
  /// system store (a private CA, or pinning your server's issuer). "" = system.
  std::string tls_ca_file;
  /// Identifies this device/installation to the server (id charset); may be "".
  std::string device_id;
  /// SQLite cache + outbox file. ":memory:" keeps nothing across restarts.
  std::string database_path;
  BackoffOptions backoff;
  /// 0 = use the server's heartbeat interval from welcome.
  std::uint32_t heartbeat_ms = 0;
  /// Cache size cap in bytes; 0 = unlimited. Only old synced history is evicted.
  std::uint64_t cache_cap_bytes = 0;
  /// Messages fetched per history page (load_older/load_newer), capped by the server.
  std::uint32_t history_page = 50;
  /// A failed op holds back later ops of the same channel until retried or cancelled.
  bool failed_op_blocks_channel = true;
  /// Automatic retries of a transiently failing op before it becomes failed{retryable}.
  std::uint32_t max_auto_retries = 5;
  /// Seed of the client's random source (backoff jitter, client ids); 0 = random.
  std::uint64_t random_seed = 0;
};

}  // namespace chatsdk
