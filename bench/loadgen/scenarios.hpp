// The scenarios of WORKLOAD.md. Each returns the process exit code (0 = OK)
// after printing its RESULT line.
#pragma once

#include "bench.hpp"

namespace chatsdk::bench {

int scenario_check(Bench& b);
int scenario_idle(Bench& b);
int scenario_pairs(Bench& b);
int scenario_room(Bench& b);
int scenario_storm(Bench& b);

}  // namespace chatsdk::bench
