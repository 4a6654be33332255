// The seam between the server's transport (libwebsockets adapter: sockets,
// HTTP, send queues) and its engine (sessions' protocol state, hub, store).
//
// Threading: everything here runs on the loop thread except LoopPoster::post,
// which any thread may call (the store's threads use it to hand results back).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/protocol/frames.hpp"

namespace chatsdk::server {

using SessionId = std::uint64_t;
/// Encoded bytes shared by every session they are queued to (encode once, fan out).
using Bytes = std::shared_ptr<const std::string>;

inline Bytes make_bytes(std::string s) {
  return std::make_shared<const std::string>(std::move(s));
}

/// Implemented by the transport; called by the engine on the loop thread.
class Wire {
 public:
  virtual ~Wire() = default;
  /// Queues one encoded frame for the session. The transport may coalesce
  /// queued frames ('\n'-joined) into one WebSocket message per write.
  /// Returns false when the session is gone or its bounded queue overflowed
  /// (the transport then closes it with CloseCode::slow_consumer and reports
  /// on_disconnect later).
  virtual bool send(SessionId session, Bytes frame) = 0;
  /// Closes the session after flushing what is queued (bounded by a timeout).
  virtual void close(SessionId session, proto::CloseCode code, std::string_view reason) = 0;
};

/// Thread-safe: runs `fn` on the loop thread soon (wakes the loop).
class LoopPoster {
 public:
  virtual ~LoopPoster() = default;
  virtual void post(std::function<void()> fn) = 0;
};

struct ConnectionInfo {
  std::string remote_addr;
  std::string origin;  // empty for non-browser clients
};

/// Counters exported at /metrics. Written on the loop thread, except those
/// marked (any thread); read by the HTTP handler on the loop thread.
struct Metrics {
  std::uint64_t connections_open = 0;
  std::uint64_t connections_total = 0;
  std::uint64_t sessions_authenticated = 0;
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t ws_writes = 0;  // lws_write calls (frames_out / ws_writes = coalescing)
  std::uint64_t messages_stored = 0;
  std::uint64_t fanout_deliveries = 0;
  std::uint64_t slow_consumer_disconnects = 0;
  std::uint64_t rate_limited = 0;
  std::uint64_t refused_fd_limit = 0;             // accepted sockets closed at the fd ceiling
  std::atomic<std::uint64_t> commits{0};          // (any thread) store transactions
  std::atomic<std::uint64_t> commit_failures{0};  // (any thread)
  std::atomic<std::uint64_t> wal_checkpoints{0};  // (any thread) WAL copied back and restarted
  /// Commit latency histogram buckets in microseconds (any thread).
  static constexpr std::uint64_t kCommitBucketsUs[] = {250,   500,   1000,  2500,   5000,
                                                       10000, 25000, 50000, 100000, 250000};
  std::atomic<std::uint64_t> commit_latency_buckets[std::size(kCommitBucketsUs) + 1]{};
  std::atomic<std::uint64_t> commit_latency_sum_us{0};
  /// Errors sent, by chatsdk::Errc number (bounded table).
  static constexpr std::size_t kMaxErrc = 64;
  std::uint64_t errors_by_code[kMaxErrc]{};

  void observe_commit_us(std::uint64_t us) {
    std::size_t i = 0;
    while (i < std::size(kCommitBucketsUs) && us > kCommitBucketsUs[i])
      ++i;
    commit_latency_buckets[i].fetch_add(1, std::memory_order_relaxed);
    commit_latency_sum_us.fetch_add(us, std::memory_order_relaxed);
    commits.fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace chatsdk::server
