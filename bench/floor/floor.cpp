// chatsdk-floor: the cost floor of delivering frames on this machine.
//
// A bare program that writes the frames a chat server writes -- WebSocket
// text frames carrying a `message` event of the same size -- to the same
// number of loopback TCP sockets, and measures its own CPU per frame:
//   single:    one write() per frame (what a server without coalescing pays)
//   coalesced: `--batch` frames per write, '\n'-separated in one WebSocket
//              message (what chatsdk's server does when frames queue up)
// A forked reader drains the other ends (epoll) and reports its CPU too: the
// floor for a receiving client. No JSON encoding, no storage, no routing:
// every real server figure should be read as a multiple of this.
//
//   chatsdk-floor --conns 1000 --frames 400000 --batch 8
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <vector>

namespace {

double cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double wall_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// A message event of the size chatsdk's server sends for a 64-byte body.
std::string sample_event(std::size_t body_bytes) {
  return R"({"type":"message","change":"created","actor":"k3x9qa-r7","message":{"channel":"k3x9qa-room","seq":123456,"version":123456,"sender":"k3x9qa-r7","client_id":"k3x9qa-r7-12345","body":")" +
         std::string(body_bytes, 'x') +
         R"(","created_at":1764038400123,"metadata":{"sent_at":1764038400123.456}}})";
}

/// Unmasked server-to-client text frame header + payload.
std::string ws_frame(const std::string& payload) {
  std::string f;
  f += static_cast<char>(0x81);
  const auto n = payload.size();
  if (n < 126) {
    f += static_cast<char>(n);
  } else if (n < 65536) {
    f += static_cast<char>(126);
    f += static_cast<char>((n >> 8) & 0xff);
    f += static_cast<char>(n & 0xff);
  } else {
    f += static_cast<char>(127);
    for (int s = 56; s >= 0; s -= 8)
      f += static_cast<char>((n >> s) & 0xff);
  }
  return f + payload;
}

bool write_all(int fd, const char* p, std::size_t n) {
  while (n) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

struct Args {
  int conns = 1000;
  long frames = 400000;
  int batch = 8;
  std::size_t body = 64;
};

struct Pass {
  double writer_us = 0, reader_us = 0, wall_s = 0;
  std::size_t bytes_per_write = 0;
};

/// Sets up `conns` loopback pairs, forks a reader, writes, returns CPU per frame.
Pass run_pass(const Args& a, int batch) {
  const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(lfd, 4096) != 0) {
    std::perror("listen");
    std::exit(1);
  }
  socklen_t alen = sizeof addr;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &alen);
  std::vector<int> cli, srv;
  for (int i = 0; i < a.conns; ++i) {
    const int c = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::perror("connect");
      std::exit(1);
    }
    const int s = ::accept(lfd, nullptr, nullptr);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    cli.push_back(c);
    srv.push_back(s);
  }
  ::close(lfd);

  const std::string event = sample_event(a.body);
  std::string msg;  // one WebSocket message with `batch` frames
  for (int i = 0; i < batch; ++i)
    msg += (i ? "\n" : "") + event;
  const std::string wire = ws_frame(msg);
  const long writes = a.frames / batch;
  const long per_conn = writes / a.conns;
  const long total_writes = per_conn * a.conns;
  const std::size_t expect = static_cast<std::size_t>(total_writes) * wire.size();

  int pipefd[2];
  if (pipe(pipefd) != 0) std::exit(1);
  const pid_t pid = fork();
  if (pid == 0) {  // reader: drain every client socket until all bytes arrived
    ::close(pipefd[0]);
    for (int s : srv)
      ::close(s);
    const int ep = epoll_create1(0);
    for (int c : cli) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = c;
      epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
    }
    const double c0 = cpu_s();
    std::size_t got = 0;
    std::vector<char> buf(256 * 1024);
    epoll_event evs[256];
    while (got < expect) {
      const int n = epoll_wait(ep, evs, 256, 1000);
      if (n <= 0) break;
      for (int i = 0; i < n; ++i) {
        const ssize_t r = ::read(evs[i].data.fd, buf.data(), buf.size());
        if (r > 0) got += static_cast<std::size_t>(r);
      }
    }
    const double used = cpu_s() - c0;
    if (::write(pipefd[1], &used, sizeof used) < 0) _exit(1);
    _exit(got == expect ? 0 : 1);
  }
  ::close(pipefd[1]);
  for (int c : cli)
    ::close(c);

  const double c0 = cpu_s(), w0 = wall_s();
  // round-robin over the sockets, like a fan-out to every member
  for (long k = 0; k < per_conn; ++k)
    for (int s : srv)
      if (!write_all(s, wire.data(), wire.size())) {
        std::perror("write");
        std::exit(1);
      }
  Pass p;
  p.wall_s = wall_s() - w0;
  const double wcpu = cpu_s() - c0;
  double rcpu = 0;
  if (::read(pipefd[0], &rcpu, sizeof rcpu) != sizeof rcpu) rcpu = NAN;
  int st = 0;
  waitpid(pid, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    std::fprintf(stderr, "reader did not get every byte\n");
  for (int s : srv)
    ::close(s);
  ::close(pipefd[0]);
  const double frames = static_cast<double>(total_writes) * batch;
  p.writer_us = wcpu * 1e6 / frames;
  p.reader_us = rcpu * 1e6 / frames;
  p.bytes_per_write = wire.size();
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--conns")
      a.conns = std::atoi(v);
    else if (k == "--frames")
      a.frames = std::atol(v);
    else if (k == "--batch")
      a.batch = std::atoi(v);
    else if (k == "--body-bytes")
      a.body = static_cast<std::size_t>(std::atol(v));
    else {
      std::fprintf(stderr,
                   "usage: chatsdk-floor [--conns N] [--frames F] [--batch K] [--body-bytes B]\n");
      return 2;
    }
  }
  if (a.conns < 1 || a.batch < 1 || a.frames < static_cast<long>(a.conns) * a.batch) {
    std::fprintf(stderr, "need conns >= 1, batch >= 1, frames >= conns * batch\n");
    return 2;
  }
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  const Pass single = run_pass(a, 1);
  const Pass coal = run_pass(a, a.batch);
  const auto frame_bytes = ws_frame(sample_event(a.body)).size();
  std::printf(
      "RESULT floor conns=%d frames=%ld frame_bytes=%zu batch=%d single_write_us_per_frame=%.3f "
      "coalesced_write_us_per_frame=%.3f single_read_us_per_frame=%.3f "
      "coalesced_read_us_per_frame=%.3f "
      "single_frames_per_s=%.0f coalesced_frames_per_s=%.0f\n",
      a.conns, a.frames, frame_bytes, a.batch, single.writer_us, coal.writer_us, single.reader_us,
      coal.reader_us, static_cast<double>(a.frames) / single.wall_s,
      static_cast<double>(a.frames) / coal.wall_s);
  return 0;
}
