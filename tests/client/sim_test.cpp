// The seeded simulation harness (src/client/sim): many users and devices,
// real cores over real SQLite files, a lossy network, crashes and server
// restarts. CHATSDK_SIM_SEED=N runs only seed N (replay a failure).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "client/sim/simulation.hpp"

using namespace chatsdk;
using namespace chatsdk::client::sim;

namespace {

void report(const SimResult& r) {
  if (r.ok()) return;
  std::string all;
  for (const auto& f : r.failures)
    all += "\n  " + f;
  FAIL_CHECK("seed " << r.seed << " failed (replay: CHATSDK_SIM_SEED=" << r.seed
                     << " chatsdk_sim --trace):" << all);
}

// 200 seeds in four cases so ctest can run them in parallel.
void run_seeds(std::uint64_t from, std::uint64_t count) {
  if (auto s = seed_from_env()) {
    if (*s < from || *s >= from + count) return;  // another case owns it
    from = *s;
    count = 1;
  }
  SimStats total;
  for (std::uint64_t seed = from; seed < from + count; ++seed) {
    SimOptions o;
    o.seed = seed;
    SimResult r = run_simulation(o);
    report(r);
    total.ops += r.stats.ops;
    total.cuts += r.stats.cuts;
    total.crashes += r.stats.crashes;
    total.mid_input_crashes += r.stats.mid_input_crashes;
    total.mid_batch_crashes += r.stats.mid_batch_crashes;
    total.batches += r.stats.batches;
    total.server_restarts += r.stats.server_restarts;
    total.replays += r.stats.replays;
  }
  // The histories must actually be hostile, or passing proves nothing.
  if (count > 1) {
    CHECK(total.ops > 40 * count);
    CHECK(total.cuts > count);
    CHECK(total.crashes > count / 4);
    CHECK(total.mid_input_crashes > count / 10);
    // Poll batches (one cache transaction each), and crashes inside them.
    CHECK(total.batches > 20 * count);
    CHECK(total.mid_batch_crashes > count / 25);
    MESSAGE("batches " << total.batches << ", crashes inside one " << total.mid_batch_crashes);
    CHECK(total.server_restarts > count / 10);
    CHECK(total.replays > count / 10);
  }
}

}  // namespace

TEST_CASE("sim: seeds 1-50 keep every invariant") {
  run_seeds(1, 50);
}
TEST_CASE("sim: seeds 51-100 keep every invariant") {
  run_seeds(51, 50);
}
TEST_CASE("sim: seeds 101-150 keep every invariant") {
  run_seeds(101, 50);
}
TEST_CASE("sim: seeds 151-200 keep every invariant") {
  run_seeds(151, 50);
}

TEST_CASE("sim: seeds 201-220 with older history - joined pages and history from the server") {
  std::uint64_t from = 201, to = 220;
  if (auto s = seed_from_env()) from = to = *s;  // outside 201-220: runs nothing
  for (std::uint64_t seed = std::max<std::uint64_t>(from, 201);
       seed <= std::min<std::uint64_t>(to, 220); ++seed) {
    SimOptions o;
    o.seed = seed;
    o.preload = 130;  // channel 0 starts with 130 messages: devices see only the newest 50
    report(run_simulation(o));
  }
}

TEST_CASE("sim: one seed replays to the same trace") {
  SimOptions o;
  o.seed = seed_from_env().value_or(4242);
  o.keep_trace = true;
  SimResult a = run_simulation(o);
  SimResult b = run_simulation(o);
  CHECK(a.trace_hash == b.trace_hash);
  CHECK(a.trace == b.trace);
  CHECK(a.failures == b.failures);
  CHECK(a.trace.size() > 100);
  o.seed += 1;
  CHECK(run_simulation(o).trace_hash != a.trace_hash);  // the seed is what drives it
}

TEST_CASE("sim: the invariant checks catch a broken client") {
  // A check hook that lies about one device proves failures surface with the seed.
  SimOptions o;
  o.seed = 3;
  o.check = [](const std::string& device, client::Core&, client::Store&) {
    return device == "u1.d0" ? std::vector<std::string>{"planted"} : std::vector<std::string>{};
  };
  SimResult r = run_simulation(o);
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures[0] == "u1.d0: planted");
}

TEST_CASE("sim: a server that forgets client_ids on restart is caught") {
  int caught = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    SimOptions o;
    o.seed = seed;
    o.p_server_restart = 0.05;
    o.break_server_dedupe = true;
    for (const auto& f : run_simulation(o).failures)
      if (f.find("applied 2 times") != std::string::npos) {
        ++caught;
        break;
      }
  }
  MESSAGE(caught << " of 20 broken-server histories caught");
  CHECK(caught > 0);
}
