#include "probes.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "clock.hpp"

namespace chatsdk::bench {
namespace {

struct MachineTicks {
  std::uint64_t idle = 0, total = 0;
};

MachineTicks machine_ticks() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  f >> cpu;
  MachineTicks m;
  std::uint64_t v = 0;
  for (int i = 0; i < 10 && (f >> v); ++i) {
    m.total += v;
    if (i == 3 || i == 4) m.idle += v;  // idle + iowait
  }
  return m;
}

int ncpu() {
  return static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
}

}  // namespace

long clock_ticks_per_s() {
  static const long t = std::max(1L, sysconf(_SC_CLK_TCK));
  return t;
}

std::optional<std::uint64_t> proc_ticks(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  std::ifstream f(path);
  if (!f) return std::nullopt;
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto close = s.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream in(s.substr(close + 2));
  std::string field;
  std::uint64_t ut = 0, st = 0;
  // fields after ')' start at #3 (state); utime is #14, stime #15
  for (int i = 3; i <= 15 && (in >> field); ++i) {
    if (i == 14) ut = std::stoull(field);
    if (i == 15) st = std::stoull(field);
  }
  return ut + st;
}

std::optional<std::uint64_t> proc_rss_kb(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(pid));
  std::ifstream f(path);
  if (!f) return std::nullopt;
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  return std::nullopt;
}

double self_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

std::optional<std::uint64_t> servers_rss_kb(const std::vector<pid_t>& pids) {
  if (pids.empty()) return std::nullopt;
  std::uint64_t sum = 0;
  for (pid_t p : pids)
    sum += proc_rss_kb(p).value_or(0);
  return sum;
}

static std::optional<std::uint64_t> servers_ticks(const std::vector<pid_t>& pids) {
  if (pids.empty()) return std::nullopt;
  std::uint64_t sum = 0;
  for (pid_t p : pids)
    sum += proc_ticks(p).value_or(0);
  return sum;
}

CpuWindow::CpuWindow(std::vector<pid_t> servers, std::vector<pid_t> workers)
    : servers_(std::move(servers)), workers_(std::move(workers)), t0_(now_ms()) {
  srv0_ = servers_ticks(servers_);
  self0_ = self_cpu_s();
  for (pid_t w : workers_)
    w0_.push_back(proc_ticks(w).value_or(0));
  const auto m = machine_ticks();
  m_idle0_ = m.idle;
  m_total0_ = m.total;
}

CpuFigures CpuWindow::stop() const {
  CpuFigures r;
  const double dt = std::max(1e-3, (now_ms() - t0_) / 1000.0);
  const auto tck = static_cast<double>(clock_ticks_per_s());
  if (srv0_) {
    const auto now = servers_ticks(servers_).value_or(*srv0_);
    r.server_cpu_pct = static_cast<double>(now - std::min(now, *srv0_)) / tck / dt * 100.0;
  }
  const double self_pct = (self_cpu_s() - self0_) / dt * 100.0;
  r.gen_cpu_pct = self_pct;
  r.gen_max_proc_cpu_pct = self_pct;
  for (std::size_t j = 0; j < workers_.size(); ++j) {
    const auto t = proc_ticks(workers_[j]).value_or(w0_[j]);
    const double p = static_cast<double>(t - std::min(t, w0_[j])) / tck / dt * 100.0;
    r.gen_cpu_pct += p;
    r.gen_max_proc_cpu_pct = std::max(r.gen_max_proc_cpu_pct, p);
  }
  r.gen_procs = 1 + static_cast<int>(workers_.size());
  const auto m = machine_ticks();
  const auto d_total = m.total - m_total0_;
  if (d_total > 0) {
    const auto d_idle = m.idle - m_idle0_;
    const double busy = static_cast<double>(d_total - std::min(d_total, d_idle)) /
                        static_cast<double>(d_total) * ncpu() * 100.0;
    r.machine_busy_pct = busy;
    r.other_cpu_pct = std::max(0.0, busy - r.gen_cpu_pct - r.server_cpu_pct.value_or(0));
  }
  r.window_s = dt;
  if (r.server_cpu_pct) r.server_cpu_s = *r.server_cpu_pct * dt / 100.0;
  r.gen_cpu_s = r.gen_cpu_pct * dt / 100.0;
  return r;
}

RssSampler::RssSampler(std::vector<pid_t> servers) : servers_(std::move(servers)) {
  peak_ = servers_rss_kb(servers_);
}

void RssSampler::sample(double now) {
  if (now - last_ < 500) return;
  last_ = now;
  const auto v = servers_rss_kb(servers_);
  if (v && (!peak_ || *v > *peak_)) peak_ = v;
}

}  // namespace chatsdk::bench
