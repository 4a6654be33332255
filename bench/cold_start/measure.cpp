// Cold start measurement. Each run is a fresh process (this executable
// re-executed with --measure-once) so nothing of a previous run — heap,
// SQLite page cache, prepared statements — is reused; only the OS page cache
// is warm (or dropped for the database file with --cold).
//
// Timed span: Client::create (opens + migrates-check the cache, loads the
// outbox and the channel list) -> channels() -> messages(most recent, 50).
// No connect(): the server URL points at a port nothing listens on and is
// never dialled.
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "chatsdk/client.hpp"
#include "client/store/store.hpp"
#include "cold_start.hpp"

namespace chatsdk::bench {
namespace {

std::int64_t now_us(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

/// VmRSS / VmHWM of this process in kB (0 if /proc is unavailable).
void read_rss(std::uint64_t& rss_kb, std::uint64_t& hwm_kb) {
  rss_kb = hwm_kb = 0;
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return;
  char line[256];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    unsigned long long v = 0;
    if (std::sscanf(line, "VmRSS: %llu kB", &v) == 1) rss_kb = v;
    if (std::sscanf(line, "VmHWM: %llu kB", &v) == 1) hwm_kb = v;
  }
  std::fclose(f);
}

struct Run {
  std::uint64_t channels = 0;
  std::uint64_t loaded = 0;
  double wall_ms = 0;
  double cpu_ms = 0;
  std::uint64_t rss_kb = 0;
  std::uint64_t hwm_kb = 0;
  std::uint64_t base_kb = 0;  // VmRSS before Client::create (binary + libraries)
};

/// Drops the file's cached pages (works without root for clean pages).
void drop_page_cache(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::fdatasync(fd);
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

/// Re-executes this binary with --measure-once and parses its RUN line.
bool run_child(const std::string& db, Run& out) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    const char* args[] = {"chatsdk-cold-start", "--measure-once", db.c_str(), nullptr};
    ::execv("/proc/self/exe", const_cast<char* const*>(args));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string text;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "measure: run failed: %s", text.c_str());
    return false;
  }
  unsigned long long ch = 0, loaded = 0, rss = 0, hwm = 0, base = 0;
  double wall = 0, cpu = 0;
  auto pos = text.find("RUN ");
  if (pos == std::string::npos ||
      std::sscanf(text.c_str() + pos,
                  "RUN channels=%llu loaded=%llu wall_ms=%lf cpu_ms=%lf rss_kb=%llu hwm_kb=%llu "
                  "base_kb=%llu",
                  &ch, &loaded, &wall, &cpu, &rss, &hwm, &base) != 7) {
    std::fprintf(stderr, "measure: unexpected child output: %s\n", text.c_str());
    return false;
  }
  out = Run{ch, loaded, wall, cpu, rss, hwm, base};
  return true;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int measure_once(const std::string& db) {
  ClientOptions o;
  o.server_url = "ws://127.0.0.1:9/ws";  // never dialled: connect() is not called
  o.token_provider = [] { return std::string(); };
  o.database_path = db;

  std::uint64_t base = 0, unused = 0;
  read_rss(base, unused);
  std::int64_t wall0 = now_us(CLOCK_MONOTONIC);
  std::int64_t cpu0 = now_us(CLOCK_PROCESS_CPUTIME_ID);
  auto client = Client::create(o);
  if (!client) {
    std::fprintf(stderr, "create: %s\n", client.error().message.c_str());
    return 1;
  }
  std::vector<Channel> list = (*client)->channels();
  auto newest = std::max_element(list.begin(), list.end(), [](const Channel& a, const Channel& b) {
    return a.last_activity < b.last_activity;
  });
  std::vector<Message> msgs;
  if (newest != list.end()) msgs = (*client)->messages(newest->id, 50);
  std::int64_t cpu1 = now_us(CLOCK_PROCESS_CPUTIME_ID);
  std::int64_t wall1 = now_us(CLOCK_MONOTONIC);

  std::uint64_t rss = 0, hwm = 0;
  read_rss(rss, hwm);
  std::printf("RUN channels=%zu loaded=%zu wall_ms=%.3f cpu_ms=%.3f rss_kb=%" PRIu64
              " hwm_kb=%" PRIu64 " base_kb=%" PRIu64 "\n",
              list.size(), msgs.size(), static_cast<double>(wall1 - wall0) / 1000.0,
              static_cast<double>(cpu1 - cpu0) / 1000.0, rss, hwm, base);
  std::fflush(stdout);
  return 0;
}

int measure(const std::string& db, unsigned runs, bool cold) {
  if (::access(db.c_str(), R_OK) != 0) {
    std::fprintf(stderr, "measure: %s: %s\n", db.c_str(), std::strerror(errno));
    return 1;
  }
  std::vector<double> wall, cpu;
  std::uint64_t channels = 0, loaded = 0, rss_kb = 0, hwm_kb = 0, base_kb = 0;
  for (unsigned i = 0; i < runs; ++i) {
    if (cold)
      for (const char* suffix : {"", "-wal", "-shm"})
        drop_page_cache(db + suffix);
    Run r;
    if (!run_child(db, r)) return 1;
    wall.push_back(r.wall_ms);
    cpu.push_back(r.cpu_ms);
    channels = r.channels;
    loaded = r.loaded;
    rss_kb = std::max(rss_kb, r.rss_kb);
    hwm_kb = std::max(hwm_kb, r.hwm_kb);
    base_kb = std::max(base_kb, r.base_kb);
  }
  // Total cached messages, counted after the runs (not part of any timing).
  std::uint64_t messages = 0;
  if (auto st = client::Store::open(db)) messages = (*st)->message_count();
  std::printf("# %u fresh processes, page cache %s\n", runs,
              cold ? "COLD for the database file (posix_fadvise DONTNEED before each run; "
                     "binary and libraries stay cached)"
                   : "warm");
  std::printf("RESULT cold_start channels=%" PRIu64 " messages=%" PRIu64 " loaded=%" PRIu64
              " runs=%u cache=%s wall_ms_p50=%.2f wall_ms_max=%.2f cpu_ms_p50=%.2f rss_mb=%.1f"
              " hwm_mb=%.1f rss_before_create_mb=%.1f\n",
              channels, messages, loaded, runs, cold ? "cold" : "warm", median(wall),
              *std::max_element(wall.begin(), wall.end()), median(cpu),
              static_cast<double>(rss_kb) / 1024.0, static_cast<double>(hwm_kb) / 1024.0,
              static_cast<double>(base_kb) / 1024.0);
  return 0;
}

}  // namespace chatsdk::bench
