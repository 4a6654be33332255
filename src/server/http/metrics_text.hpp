// Prometheus text exposition (format 0.0.4) of the server's Metrics.
//
//   std::string body = http::render_metrics(metrics, http::read_process_stats());
//   // chatsdk_frames_in_total 1234
//   // chatsdk_commit_latency_seconds_bucket{le="0.00025"} 17 ...
#pragma once

#include <string>

#include "server/api.hpp"
#include "server/http/process_stats.hpp"

namespace chatsdk::server::http {

inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string render_metrics(const Metrics& metrics, const ProcessStats& process);

}  // namespace chatsdk::server::http
