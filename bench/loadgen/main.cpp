// chatsdk-bench: the load generator of WORKLOAD.md for the chatsdk protocol.
//
//   chatsdk-bench --scenario check|idle|pairs|room|storm --url ws://127.0.0.1:8080/ws
//                 --secret S [--server-pid PID[,PID]] [flags of load.js]
//
// Same flags, defaults and `RESULT <scenario> key=value ...` lines as the
// Socket.IO peer's load.js, plus --secret (the server's JWT HS256 secret).
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>

#include "options.hpp"
#include "report.hpp"
#include "scenarios.hpp"

namespace {

char g_abort_line[160];

extern "C" void on_alarm(int) {
  // async-signal-safe: one write, then exit
  const auto n = std::strlen(g_abort_line);
  if (write(STDOUT_FILENO, g_abort_line, n) < 0) {
  }
  _exit(3);
}

void usage() {
  std::cout <<
      R"(usage: chatsdk-bench --scenario check|idle|pairs|room|storm [flags]
common: --url URL[,URL] (ws://127.0.0.1:8080/ws)  --secret S  --server-pid PID[,PID]
        --run-id ID  --connect-concurrency N (200)  --connect-timeout-ms N (20000)
        --ack-timeout-ms N (10000)  --body-bytes N (64)  --warmup S (5)  --duration S (20)
        --drain S (5)  --max-time S (300)  --json-out FILE  --label TEXT
        --client-ids ulid|counter (ulid: time-ordered, as the SDK makes them)
        --conns-per-source N (25000: above this, connections bind 127.0.0.2, .3, ...)
idle : --conns C (5000) --room-size N (2) --hold S (10)
pairs: --conns C (2000) --rate R msgs/s per client (1)
room : --members R (1000) --senders S (10) --total-rate X (50) --procs N (1) --room-kind large|group
storm: --conns C (2000) --writers K (4) --writer-rate X (500) --steady S (5) --outage-ms N (2000)
       --post S (3) --storm-timeout S (60) --storm-concurrency N (0 = all at once)
)";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace chatsdk::bench;
  Options o;
  std::string err;
  if (!o.parse(argc, argv, err)) {
    std::cerr << err << "\n";
    usage();
    return 2;
  }
  if (o.has("help") || o.has("h")) {
    usage();
    return 0;
  }
  const std::string scenario = o.str("scenario", "check");
  // one connection per simulated user: take every descriptor we may
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  signal(SIGPIPE, SIG_IGN);

  ReportContext ctx;
  ctx.scenario = scenario;
  ctx.label = o.str("label", "");
  ctx.json_out = o.str("json-out", "");
  ctx.urls = o.list("url", "ws://127.0.0.1:8080/ws");
  std::string run = o.str("run-id", "");
  if (run.empty()) {
    static constexpr char kAlpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::random_device rd;
    for (int i = 0; i < 6; ++i)
      run += kAlpha[rd() % 36];
  }
  ctx.run_id = run;

  const double max_time = o.num("max-time", 300);
  std::snprintf(g_abort_line, sizeof g_abort_line,
                "RESULT %s status=ABORTED_MAX_TIME max_time_s=%g\n", scenario.c_str(), max_time);
  signal(SIGALRM, on_alarm);
  alarm(static_cast<unsigned>(max_time));

  Bench b(o, ctx);
  int rc = 2;
  if (scenario == "check")
    rc = scenario_check(b);
  else if (scenario == "idle")
    rc = scenario_idle(b);
  else if (scenario == "pairs")
    rc = scenario_pairs(b);
  else if (scenario == "room")
    rc = scenario_room(b);
  else if (scenario == "storm")
    rc = scenario_storm(b);
  else {
    std::cerr << "unknown scenario " << scenario << "; one of check, idle, pairs, room, storm\n";
    return 2;
  }
  // scenario callbacks capture the scenario's locals: drop them before the loop runs again
  b.tickers.clear();
  b.on_ready = nullptr;
  b.on_lost = nullptr;
  b.loop().run_for(100);  // let close frames leave
  std::cout.flush();
  return rc;
}
