// Clocks: ManualClock moves only when told; SystemClock's steady time never goes back.
#include <doctest/doctest.h>

#include <cstdint>

#include "common/util/clock.hpp"

TEST_CASE("clock: ManualClock advances wall and steady time together") {
  chatsdk::ManualClock clock(1'000, 50);
  const chatsdk::Clock& c = clock;  // used through the interface, as code under test does
  CHECK(c.now_ms() == 1'000);
  CHECK(c.steady_ms() == 50);
  clock.advance(250);
  CHECK(c.now_ms() == 1'250);
  CHECK(c.steady_ms() == 300);
  // Setting the wall clock (an NTP step) leaves monotonic time alone.
  clock.set_wall(10);
  CHECK(c.now_ms() == 10);
  CHECK(c.steady_ms() == 300);
}

TEST_CASE("clock: SystemClock reports plausible, monotonic time") {
  chatsdk::SystemClock clock;
  CHECK(clock.now_ms() > 1'600'000'000'000);  // after September 2020
  std::int64_t last = clock.steady_ms();
  for (int i = 0; i < 1000; ++i) {
    const std::int64_t now = clock.steady_ms();
    CHECK(now >= last);
    last = now;
  }
}
