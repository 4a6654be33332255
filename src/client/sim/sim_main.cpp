// chatsdk_sim: runs many seeded simulation histories (the long soak that
// `make test` does not run). A failing seed is printed with its failures;
// rerun it alone with CHATSDK_SIM_SEED=N (or --seed N --trace).
//
//   chatsdk_sim --seeds 5000 [--from 1] [--steps 60]
//   chatsdk_sim --seed 1234 --trace
//   chatsdk_sim --seeds 500 --hostile     (3x the faults, links up to 2 s slow)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "client/sim/simulation.hpp"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: chatsdk_sim [--seeds N] [--from S] [--seed S] [--steps K] [--users U]\n"
               "                   [--devices D] [--preload M] [--hostile] [--trace]\n"
               "  CHATSDK_SIM_SEED=S in the environment runs only seed S.\n");
  return 2;
}

bool number(const char* s, unsigned long long& out) {
  char* end = nullptr;
  out = std::strtoull(s, &end, 10);
  return end != s && *end == '\0';
}

}  // namespace

int main(int argc, char** argv) {
  using namespace chatsdk::client::sim;
  unsigned long long seeds = 1000, from = 1;
  SimOptions base;
  bool single = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    unsigned long long v = 0;
    bool has_value = i + 1 < argc;
    if (a == "--trace") {
      base.keep_trace = true;
    } else if (a == "--hostile") {  // three times the faults, slow links
      base.p_cut *= 3;
      base.p_crash *= 3;
      base.p_server_restart *= 3;
      base.p_connect_fail *= 2;
      base.p_replay *= 3;
      base.max_delay_ms = 2'000;
    } else if (has_value && number(argv[i + 1], v) &&
               (a == "--seeds" || a == "--from" || a == "--seed" || a == "--steps" ||
                a == "--users" || a == "--devices" || a == "--preload")) {
      ++i;
      if (a == "--seeds") seeds = v;
      if (a == "--from") from = v;
      if (a == "--seed") from = v, seeds = 1, single = true;
      if (a == "--steps") base.workload_steps = static_cast<int>(v);
      if (a == "--users") base.users = static_cast<int>(v);
      if (a == "--devices") base.devices_per_user = static_cast<int>(v);
      if (a == "--preload") base.preload = static_cast<int>(v);
    } else {
      return usage();
    }
  }
  if (auto s = seed_from_env()) from = *s, seeds = 1, single = true;
  unsigned long long failed = 0;
  for (unsigned long long k = 0; k < seeds; ++k) {
    SimOptions o = base;
    o.seed = from + k;
    SimResult r = run_simulation(o);
    if (single || !r.ok()) {
      for (const auto& line : r.trace)
        std::printf("%s\n", line.c_str());
      std::printf(
          "seed %llu: %s, trace hash %016llx, %llu ops, %llu frames, %llu cuts, "
          "%llu crashes (%llu mid-input, %llu mid-batch), %llu poll batches, %llu server restarts, "
          "%llu already_applied, %lld virtual "
          "ms\n",
          static_cast<unsigned long long>(r.seed), r.ok() ? "ok" : "FAILED",
          static_cast<unsigned long long>(r.trace_hash),
          static_cast<unsigned long long>(r.stats.ops),
          static_cast<unsigned long long>(r.stats.frames),
          static_cast<unsigned long long>(r.stats.cuts),
          static_cast<unsigned long long>(r.stats.crashes),
          static_cast<unsigned long long>(r.stats.mid_input_crashes),
          static_cast<unsigned long long>(r.stats.mid_batch_crashes),
          static_cast<unsigned long long>(r.stats.batches),
          static_cast<unsigned long long>(r.stats.server_restarts),
          static_cast<unsigned long long>(r.stats.replays),
          static_cast<long long>(r.stats.virtual_ms));
      for (const auto& f : r.failures)
        std::printf("  %s\n", f.c_str());
    }
    if (!r.ok()) {
      ++failed;
      std::printf("  replay: CHATSDK_SIM_SEED=%llu chatsdk_sim --trace\n",
                  static_cast<unsigned long long>(r.seed));
    }
  }
  std::printf("%llu of %llu seeds failed\n", failed, seeds);
  return failed == 0 ? 0 : 1;
}
