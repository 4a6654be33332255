#include "server/http/metrics_text.hpp"

#include <fmt/format.h>

#include <iterator>

#include "chatsdk/errc.hpp"

namespace chatsdk::server::http {
namespace {

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void counter(std::string& out, std::string_view name, std::string_view help, std::uint64_t v) {
  family(out, name, "counter", help);
  fmt::format_to(std::back_inserter(out), "{} {}\n", name, v);
}

void gauge(std::string& out, std::string_view name, std::string_view help, std::uint64_t v) {
  family(out, name, "gauge", help);
  fmt::format_to(std::back_inserter(out), "{} {}\n", name, v);
}

std::uint64_t load(const std::atomic<std::uint64_t>& a) {
  return a.load(std::memory_order_relaxed);
}

}  // namespace

std::string render_metrics(const Metrics& m, const ProcessStats& p) {
  std::string out;
  out.reserve(4096);
  gauge(out, "chatsdk_connections_open", "WebSocket connections currently open.",
        m.connections_open);
  counter(out, "chatsdk_connections_total", "WebSocket connections accepted.", m.connections_total);
  gauge(out, "chatsdk_sessions_authenticated", "Sessions past hello/welcome.",
        m.sessions_authenticated);
  counter(out, "chatsdk_frames_in_total", "WebSocket messages received.", m.frames_in);
  counter(out, "chatsdk_frames_out_total", "Frames sent (before coalescing).", m.frames_out);
  counter(out, "chatsdk_bytes_in_total", "Payload bytes received.", m.bytes_in);
  counter(out, "chatsdk_bytes_out_total", "Payload bytes sent.", m.bytes_out);
  counter(out, "chatsdk_ws_writes_total", "WebSocket writes (frames_out / ws_writes = coalescing).",
          m.ws_writes);
  counter(out, "chatsdk_messages_stored_total", "Chat messages committed.", m.messages_stored);
  counter(out, "chatsdk_fanout_deliveries_total", "Events delivered to sessions.",
          m.fanout_deliveries);
  counter(out, "chatsdk_slow_consumer_disconnects_total",
          "Sessions closed because their send queue overflowed.", m.slow_consumer_disconnects);
  counter(out, "chatsdk_rate_limited_total", "Frames rejected by rate limits.", m.rate_limited);
  counter(out, "chatsdk_refused_fd_limit_total",
          "Connections closed on accept because the process is near its fd limit.",
          m.refused_fd_limit);
  counter(out, "chatsdk_commits_total", "Store transactions committed.", load(m.commits));
  counter(out, "chatsdk_commit_failures_total", "Store transactions that failed.",
          load(m.commit_failures));
  counter(out, "chatsdk_wal_checkpoints_total",
          "WAL checkpoints completed (copied back into the database, WAL started over).",
          load(m.wal_checkpoints));

  // Buckets are stored per interval; Prometheus wants cumulative counts.
  family(out, "chatsdk_commit_latency_seconds", "histogram", "Store commit latency.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < std::size(Metrics::kCommitBucketsUs); ++i) {
    cumulative += load(m.commit_latency_buckets[i]);
    fmt::format_to(std::back_inserter(out),
                   "chatsdk_commit_latency_seconds_bucket{{le=\"{}\"}} {}\n",
                   static_cast<double>(Metrics::kCommitBucketsUs[i]) / 1e6, cumulative);
  }
  cumulative += load(m.commit_latency_buckets[std::size(Metrics::kCommitBucketsUs)]);
  fmt::format_to(std::back_inserter(out),
                 "chatsdk_commit_latency_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  fmt::format_to(std::back_inserter(out), "chatsdk_commit_latency_seconds_sum {}\n",
                 static_cast<double>(load(m.commit_latency_sum_us)) / 1e6);
  fmt::format_to(std::back_inserter(out), "chatsdk_commit_latency_seconds_count {}\n", cumulative);

  family(out, "chatsdk_errors_total", "counter", "Error frames sent, by code.");
  for (std::size_t i = 0; i < Metrics::kMaxErrc; ++i) {
    if (m.errors_by_code[i] == 0) continue;
    fmt::format_to(std::back_inserter(out), "chatsdk_errors_total{{code=\"{}\"}} {}\n",
                   errc_name(static_cast<Errc>(i)), m.errors_by_code[i]);
  }

  gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.", p.rss_bytes);
  gauge(out, "process_open_fds", "Open file descriptors.", p.open_fds);
  return out;
}

}  // namespace chatsdk::server::http
