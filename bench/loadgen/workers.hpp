// --procs N for the room scenario: passive receivers hosted by N-1 forked
// generator processes, driven over pipes (one text line per command). The
// parent keeps the senders and merges the workers' latency histograms,
// delivery counts and per-message fan-out records into its own figures.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace chatsdk::bench {

class Bench;

class Workers {
 public:
  Workers(Bench& b, std::uint32_t procs);
  ~Workers();
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  void add_remote(std::uint32_t worker, std::string user, std::uint32_t global_idx);
  /// Forks the workers. Returns true in the parent; a worker runs its command
  /// loop and exits inside, never returning.
  bool fork_all();

  struct Connected {
    std::uint64_t conns = 0, failed = 0;
  };
  /// Tells every worker to connect and join its receivers; waits for them.
  Connected connect(Bench& b);
  void set_window(double w_start, double w_end);
  struct Finished {
    std::uint64_t lost = 0, disc = 0;
  };
  /// Sends the room heads, lets workers drain up to drain_ms, merges reports.
  Finished finish(Bench& b, double drain_ms);
  void stop();

 private:
  struct Remote {
    std::string user;
    std::uint32_t global_idx;
  };
  struct Proc {
    pid_t pid = -1;
    int to = -1, from = -1;
    std::string buf;
    std::vector<Remote> remotes;
  };
  void send(Proc& p, const std::string& line);
  std::string read_line(Proc& p);
  [[noreturn]] void run_worker(Proc& self);

  Bench& b_;
  std::vector<Proc> procs_;
};

}  // namespace chatsdk::bench
