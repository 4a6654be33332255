// CPU and memory probes read from /proc, as WORKLOAD.md defines them: CPU in %
// of one core over a window (200% = both cores of a 2-core box), RSS = VmRSS.
#pragma once

#include <sys/types.h>
#include <cstdint>
#include <optional>
#include <vector>

namespace chatsdk::bench {

/// utime + stime of a process (all threads), in clock ticks; empty if gone.
std::optional<std::uint64_t> proc_ticks(pid_t pid);
/// VmRSS in KiB; empty if gone.
std::optional<std::uint64_t> proc_rss_kb(pid_t pid);
/// Own CPU (user + system, all threads) in seconds.
double self_cpu_s();
long clock_ticks_per_s();

/// Sum of VmRSS over the server pids; empty when no pid was given.
std::optional<std::uint64_t> servers_rss_kb(const std::vector<pid_t>& pids);

struct CpuFigures {
  std::optional<double> server_cpu_pct;
  double gen_cpu_pct = 0;
  int gen_procs = 1;
  double gen_max_proc_cpu_pct = 0;
  std::optional<double> machine_busy_pct;
  std::optional<double> other_cpu_pct;
  double window_s = 0;
  std::optional<double> server_cpu_s;
  double gen_cpu_s = 0;
};

/// CPU of server, generator (this process plus worker pids) and machine over
/// the window from construction to stop().
class CpuWindow {
 public:
  CpuWindow(std::vector<pid_t> servers, std::vector<pid_t> workers);
  CpuFigures stop() const;

 private:
  std::vector<pid_t> servers_, workers_;
  double t0_;
  std::optional<std::uint64_t> srv0_;
  double self0_;
  std::vector<std::uint64_t> w0_;
  std::uint64_t m_idle0_ = 0, m_total0_ = 0;
};

/// Peak server RSS, sampled by the caller (every ~500 ms).
class RssSampler {
 public:
  explicit RssSampler(std::vector<pid_t> servers);
  void sample(double now);
  std::optional<std::uint64_t> peak_kb() const { return peak_; }

 private:
  std::vector<pid_t> servers_;
  std::optional<std::uint64_t> peak_;
  double last_ = 0;
};

}  // namespace chatsdk::bench
