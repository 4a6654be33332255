// Injectable clocks. Code that needs time takes a `const Clock&`; production
// passes SystemClock, tests and the simulation pass ManualClock.
#pragma once

#include <chrono>
#include <cstdint>

namespace chatsdk {

class Clock {
 public:
  virtual ~Clock() = default;
  /// Wall-clock milliseconds since the Unix epoch (timestamps shown to users).
  virtual std::int64_t now_ms() const = 0;
  /// Monotonic milliseconds (timers, timeouts); unrelated to the wall clock.
  virtual std::int64_t steady_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
  std::int64_t steady_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  }
};

/// A clock that moves only when told to. Not thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t wall_ms = 1'700'000'000'000, std::int64_t steady = 0)
      : wall_ms_(wall_ms), steady_ms_(steady) {}
  std::int64_t now_ms() const override { return wall_ms_; }
  std::int64_t steady_ms() const override { return steady_ms_; }
  void advance(std::int64_t ms) {
    wall_ms_ += ms;
    steady_ms_ += ms;
  }
  void set_wall(std::int64_t ms) { wall_ms_ = ms; }

 private:
  std::int64_t wall_ms_;
  std::int64_t steady_ms_;
};

}  // namespace chatsdk
