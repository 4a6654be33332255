// Server configuration: defaults here, overridden by the config file, then the
// environment (CHATSDK_*), then command-line flags (see docs/server.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chatsdk::server {

enum class Durability { normal, full };  // normal: survives process crash; full: power loss

struct Config {
  // transport
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::string tls_cert;  // both set = TLS
  std::string tls_key;
  std::vector<std::string> allowed_origins;  // empty = any; browsers without a match refused
  std::uint32_t max_frame_bytes = 64 * 1024;
  std::uint32_t handshake_timeout_ms = 10'000;       // connect -> authenticated
  std::uint32_t heartbeat_ms = 25'000;               // announced; idle close after 2.5x
  std::uint32_t send_queue_max_bytes = 1024 * 1024;  // per session, then slow_consumer
  std::uint32_t fd_limit = 0;                        // 0 = ulimit -n minus headroom

  // auth
  std::string jwt_secret;   // HS256 shared secret with the app backend
  std::string admin_token;  // bearer token for the admin HTTP API; empty = admin disabled
  std::uint32_t token_leeway_s = 30;

  // storage
  std::string data_dir = "./var";
  Durability durability = Durability::normal;
  std::uint32_t group_commit_max_delay_us = 4000;  // wait at most this long to batch
  std::uint32_t group_commit_target_ops = 16;      // ...or until this many ops are waiting
  std::uint32_t group_commit_max_ops = 512;        // ops per transaction
  std::uint64_t max_db_bytes =
      0;  // storage quota; 0 = unlimited (writes past it fail: storage_failed)

  // limits
  std::uint32_t max_body_bytes = 16 * 1024;
  std::uint32_t max_metadata_bytes = 4 * 1024;
  std::uint32_t history_max = 500;
  std::uint32_t sync_channel_max = 200;  // changes per channel per sync page
  std::uint32_t sync_total_max = 2000;   // changes per sync reply
  std::uint32_t too_far_behind = 1000;   // changes behind => too_far_behind
  std::uint32_t sends_per_second = 20;   // per user, sustained
  std::uint32_t send_burst = 100;
  std::uint32_t frames_per_second = 100;  // per connection, sustained
  std::uint32_t frame_burst = 400;
  std::uint32_t typing_per_second = 2;  // per session
  std::uint32_t max_members = 100'000;  // per channel

  // fan-out policy
  std::uint32_t small_channel_threshold = 100;  // above: no typing, per-user receipts, presence
  std::uint32_t receipt_flush_ms = 1000;        // receipts written behind, batched

  // logging
  std::string log_level = "info";  // debug, info, warn, error
};

}  // namespace chatsdk::server
