#include "workers.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "bench.hpp"
#include "clock.hpp"

namespace chatsdk::bench {

Workers::Workers(Bench& b, std::uint32_t procs) : b_(b) {
  if (procs > 1) procs_.resize(procs - 1);
}

Workers::~Workers() {
  stop();
}

void Workers::add_remote(std::uint32_t worker, std::string user, std::uint32_t global_idx) {
  procs_[worker].remotes.push_back(Remote{std::move(user), global_idx});
}

bool Workers::fork_all() {
  std::vector<pid_t> pids;
  for (auto& p : procs_) {
    int down[2], up[2];
    if (pipe2(down, O_CLOEXEC) != 0 || pipe2(up, O_CLOEXEC) != 0) return true;
    std::fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) {
      ::close(down[1]);
      ::close(up[0]);
      // drop the pipes of workers forked earlier
      for (auto& q : procs_) {
        if (&q == &p) break;
        if (q.to >= 0) ::close(q.to);
        if (q.from >= 0) ::close(q.from);
      }
      p.from = down[0];
      p.to = up[1];
      run_worker(p);
    }
    ::close(down[0]);
    ::close(up[1]);
    p.pid = pid;
    p.to = down[1];
    p.from = up[0];
    fcntl(p.from, F_SETFL, fcntl(p.from, F_GETFL) | O_NONBLOCK);
    pids.push_back(pid);
  }
  b_.worker_pids = pids;
  return true;
}

void Workers::send(Proc& p, const std::string& line) {
  std::string s = line + "\n";
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t w = ::write(p.to, s.data() + off, s.size() - off);
    if (w > 0) {
      off += static_cast<std::size_t>(w);
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else {
      return;
    }
  }
}

/// Non-blocking: returns a complete line, or "" when none is there yet.
std::string Workers::read_line(Proc& p) {
  char tmp[65536];
  for (;;) {
    const auto nl = p.buf.find('\n');
    if (nl != std::string::npos) {
      std::string line = p.buf.substr(0, nl);
      p.buf.erase(0, nl + 1);
      return line;
    }
    const ssize_t r = ::read(p.from, tmp, sizeof tmp);
    if (r > 0) {
      p.buf.append(tmp, static_cast<std::size_t>(r));
      continue;
    }
    if (r == 0) return "eof";
    return "";
  }
}

Workers::Connected Workers::connect(Bench& b) {
  Connected out;
  for (auto& p : procs_)
    send(p, "connect");
  std::vector<bool> got(procs_.size(), false);
  std::size_t n = 0;
  b.loop().run_until(
      [&] {
        for (std::size_t j = 0; j < procs_.size(); ++j) {
          if (got[j]) continue;
          const auto line = read_line(procs_[j]);
          if (line.empty()) continue;
          got[j] = true;
          ++n;
          std::istringstream in(line);
          std::string tag;
          std::uint64_t conns = 0, failed = 0;
          in >> tag >> conns >> failed;
          out.conns += conns;
          out.failed += failed + (tag == "connected" ? 0 : procs_[j].remotes.size());
          b.rooms()[0].remote_members += static_cast<std::uint32_t>(conns);
        }
        return n == procs_.size();
      },
      b.opts().num("max-time", 300) * 1000);
  return out;
}

void Workers::set_window(double w_start, double w_end) {
  char line[96];
  std::snprintf(line, sizeof line, "window %.3f %.3f", w_start, w_end);
  for (auto& p : procs_)
    send(p, line);
}

Workers::Finished Workers::finish(Bench& b, double drain_ms) {
  Finished out;
  Room& room = b.rooms()[0];
  for (auto& p : procs_)
    send(p, "finish " + std::to_string(room.assigned.max()) + " " +
                std::to_string(static_cast<long>(drain_ms)));
  std::vector<bool> got(procs_.size(), false);
  std::size_t n = 0;
  Traffic& tr = b.traffic();
  b.loop().run_until(
      [&] {
        for (std::size_t j = 0; j < procs_.size(); ++j) {
          if (got[j]) continue;
          const auto line = read_line(procs_[j]);
          if (line.empty()) continue;
          got[j] = true;
          ++n;
          std::istringstream in(line);
          std::string tag;
          in >> tag;
          if (tag != "report") continue;
          std::uint64_t deliv = 0, win = 0, dup = 0, lost = 0, disc = 0, ln = 0, lneg = 0, nb = 0,
                        npm = 0;
          double lsum = 0, lmax = 0;
          in >> deliv >> win >> dup >> lost >> disc >> ln >> lsum >> lmax >> lneg >> nb;
          tr.deliv += deliv;
          tr.deliv_win += win;
          tr.dup_deliv += dup;
          out.lost += lost;
          out.disc += disc;
          Hist h;
          for (std::uint64_t i = 0; i < nb; ++i) {
            std::size_t bi = 0;
            std::uint64_t c = 0;
            in >> bi >> c;
            if (bi < h.buckets().size()) h.buckets()[bi] += c;
          }
          h.set_totals(ln, lsum, lmax, lneg);
          tr.lat.merge(h);
          in >> npm;
          for (std::uint64_t i = 0; i < npm; ++i) {
            std::uint64_t seq = 0, cnt = 0;
            double mx = 0;
            int inw = 0;
            in >> seq >> cnt >> mx >> inw;
            if (seq >= (1u << 26)) continue;
            if (seq >= room.per_msg.size()) room.per_msg.resize(seq + 1);
            PerMsg& pm = room.per_msg[seq];
            pm.cnt += static_cast<std::uint32_t>(cnt);
            pm.max_ms = std::max(pm.max_ms, static_cast<float>(mx));
            pm.in_window = pm.in_window || inw;
          }
        }
        return n == procs_.size();
      },
      drain_ms + 10000);
  return out;
}

void Workers::stop() {
  for (auto& p : procs_) {
    if (p.pid <= 0) continue;
    send(p, "exit");
    ::close(p.to);
    ::close(p.from);
    int st = 0;
    for (int i = 0; i < 100 && waitpid(p.pid, &st, WNOHANG) == 0; ++i)
      usleep(20000);
    if (waitpid(p.pid, &st, WNOHANG) == 0) {
      kill(p.pid, SIGKILL);
      waitpid(p.pid, &st, 0);
    }
    p.pid = -1;
  }
}

void Workers::run_worker(Proc& self) {
  // a fresh Bench and epoll loop: nothing of the parent's loop is touched here
  Bench wb(b_.opts(), b_.ctx());
  const Room& proto_room = b_.rooms()[0];
  const auto room = wb.add_room(proto_room.name, proto_room.kind);
  wb.rooms()[room].created = true;  // the parent's first member created it
  wb.reserve_clients(self.remotes.size());
  std::vector<std::uint32_t> order;
  for (const auto& r : self.remotes)
    order.push_back(wb.add_client(r.user, {room}, r.global_idx));
  wb.traffic().per_msg = true;
  fcntl(self.from, F_SETFL, fcntl(self.from, F_GETFL) | O_NONBLOCK);
  auto reply = [&](const std::string& s) {
    std::string line = s + "\n";
    std::size_t off = 0;
    while (off < line.size()) {
      const ssize_t w = ::write(self.to, line.data() + off, line.size() - off);
      if (w > 0)
        off += static_cast<std::size_t>(w);
      else if (!(w < 0 && errno == EINTR))
        break;
    }
  };
  for (;;) {
    std::string cmd = read_line(self);
    if (cmd == "eof" || cmd == "exit") break;
    if (cmd.empty()) {
      wb.loop().poll(10);
      continue;
    }
    std::istringstream in(cmd);
    std::string op;
    in >> op;
    if (op == "connect") {
      auto& ramp = wb.connect_all(
          order, static_cast<std::uint32_t>(wb.opts().num("connect-concurrency", 200)),
          wb.opts().num("max-time", 300) * 1000);
      std::uint64_t ok = 0;
      for (const auto& c : wb.clients())
        ok += c.phase == Phase::ready;
      reply("connected " + std::to_string(ok) + " " + std::to_string(ramp.failed));
    } else if (op == "window") {
      in >> wb.traffic().w_start >> wb.traffic().w_end;
    } else if (op == "finish") {
      std::uint64_t head = 0;
      double drain_ms = 0;
      in >> head >> drain_ms;
      auto holes = [&] {
        std::uint64_t m = 0;
        for (const auto& c : wb.clients())
          if (c.phase == Phase::ready || c.disc) m += c.seen.missing(head);
        return m;
      };
      double last = 0;
      wb.loop().run_until(
          [&] {
            const double now = now_ms();
            if (now - last < 100) return false;
            last = now;
            return holes() == 0;
          },
          drain_ms);
      const Traffic& tr = wb.traffic();
      std::uint64_t disc = 0;
      for (const auto& c : wb.clients())
        disc += c.disc;
      std::ostringstream out;
      out.precision(17);
      out << "report " << tr.deliv << " " << tr.deliv_win << " " << tr.dup_deliv << " " << holes()
          << " " << disc << " " << tr.lat.count() << " " << tr.lat.sum() << " " << tr.lat.max()
          << " " << tr.lat.negatives();
      const auto& bk = tr.lat.buckets();
      std::uint64_t nb = 0;
      for (auto v : bk)
        nb += v != 0;
      out << " " << nb;
      for (std::size_t i = 0; i < bk.size(); ++i)
        if (bk[i]) out << " " << i << " " << bk[i];
      const auto& pms = wb.rooms()[room].per_msg;
      std::uint64_t npm = 0;
      for (const auto& pm : pms)
        npm += pm.cnt != 0 || pm.in_window;
      out << " " << npm;
      for (std::size_t s = 0; s < pms.size(); ++s)
        if (pms[s].cnt != 0 || pms[s].in_window)
          out << " " << s << " " << pms[s].cnt << " " << pms[s].max_ms << " "
              << (pms[s].in_window ? 1 : 0);
      reply(out.str());
    }
  }
  for (auto& c : wb.clients())
    if (c.conn) c.conn->close_normal();
  _exit(0);
}

}  // namespace chatsdk::bench
