// Backoff: exponential ceilings with a cap, full jitter, determinism.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "common/util/backoff.hpp"

using chatsdk::Backoff;
using chatsdk::BackoffPolicy;

namespace {

std::vector<std::uint32_t> draw(Backoff& b, int n) {
  std::vector<std::uint32_t> out;
  for (int i = 0; i < n; ++i)
    out.push_back(b.next_delay_ms());
  return out;
}

}  // namespace

TEST_CASE("backoff: ceiling doubles from initial and caps at max, every delay within it") {
  Backoff b(BackoffPolicy{}, 7);
  CHECK(b.attempt() == 0);
  // 500, 1000, 2000, ..., 16000, then 30000 forever.
  for (std::uint32_t n = 0; n < 200; ++n) {
    CAPTURE(n);
    const std::uint32_t expected = n < 6 ? 500U << n : 30000U;
    CHECK(b.ceiling_ms() == expected);
    const std::uint32_t d = b.next_delay_ms();
    CHECK(d <= expected);
    CHECK(b.attempt() == n + 1);
  }
}

TEST_CASE("backoff: other factors, caps and degenerate policies") {
  SUBCASE("factor 1.5") {
    Backoff b({100, 1000, 1.5}, 1);
    const std::vector<std::uint32_t> expected{100, 150, 225, 337, 506, 759, 1000, 1000};
    for (auto e : expected) {
      CHECK(b.ceiling_ms() == e);
      CHECK(b.next_delay_ms() <= e);
    }
  }
  SUBCASE("initial above max is capped") {
    Backoff b({5000, 1000, 2.0}, 1);
    for (int i = 0; i < 5; ++i) {
      CHECK(b.ceiling_ms() == 1000);
      CHECK(b.next_delay_ms() <= 1000);
    }
  }
  SUBCASE("factor below 1 or NaN means no growth") {
    for (double f : {0.5, 0.0, -3.0, std::nan("")}) {
      Backoff b({400, 30000, f}, 1);
      for (int i = 0; i < 10; ++i) {
        CHECK(b.ceiling_ms() == 400);
        CHECK(b.next_delay_ms() <= 400);
      }
    }
  }
  SUBCASE("huge factor and huge attempt counts do not overflow") {
    Backoff b({1, std::numeric_limits<std::uint32_t>::max(), 1e300}, 1);
    CHECK(b.ceiling_ms() == 1);
    (void)b.next_delay_ms();
    CHECK(b.ceiling_ms() == std::numeric_limits<std::uint32_t>::max());
    Backoff inf({1, 60000, std::numeric_limits<double>::infinity()}, 1);
    CHECK(inf.ceiling_ms() == 1);
    (void)inf.next_delay_ms();
    CHECK(inf.ceiling_ms() == 60000);
    Backoff slow({1, 60000, 1.0001}, 1);
    for (int i = 0; i < 200000; ++i)
      CHECK_LE(slow.next_delay_ms(), 60000);  // ~110k to reach the cap
    CHECK(slow.ceiling_ms() == 60000);
  }
  SUBCASE("zero initial or zero max gives zero delays") {
    Backoff zero_initial({0, 1000, 2.0}, 1);
    Backoff zero_max({500, 0, 2.0}, 1);
    for (int i = 0; i < 100; ++i) {
      CHECK(zero_initial.next_delay_ms() == 0);
      CHECK(zero_max.next_delay_ms() == 0);
    }
  }
}

TEST_CASE("backoff: reset returns to the first ceiling") {
  Backoff b(BackoffPolicy{}, 3);
  (void)draw(b, 10);
  CHECK(b.attempt() == 10);
  CHECK(b.ceiling_ms() == 30000);
  b.reset();
  CHECK(b.attempt() == 0);
  CHECK(b.ceiling_ms() == 500);
  CHECK(b.next_delay_ms() <= 500);
  CHECK(b.ceiling_ms() == 1000);
}

TEST_CASE("backoff: same seed, same sequence, different seed, different sequence") {
  Backoff a(BackoffPolicy{}, 99);
  Backoff b(BackoffPolicy{}, 99);
  Backoff c(BackoffPolicy{}, 100);
  const auto sa = draw(a, 50);
  CHECK(sa == draw(b, 50));
  CHECK(sa != draw(c, 50));
  // Reset does not rewind the random stream, only the attempt count.
  a.reset();
  Backoff fresh(BackoffPolicy{}, 99);
  CHECK(draw(a, 20) != draw(fresh, 20));
}

TEST_CASE("backoff: full jitter is uniform over [0, ceiling]") {
  constexpr int kDraws = 100000;
  SUBCASE("constant ceiling") {
    constexpr std::uint32_t kCeiling = 1000;
    Backoff b({kCeiling, kCeiling, 2.0}, 2024);
    double sum = 0;
    int low = 0;
    int high = 0;
    std::uint32_t min = kCeiling;
    std::uint32_t max = 0;
    for (int i = 0; i < kDraws; ++i) {
      const std::uint32_t d = b.next_delay_ms();
      REQUIRE(d <= kCeiling);
      sum += d;
      low += d < kCeiling / 10 ? 1 : 0;
      high += d > kCeiling - kCeiling / 10 ? 1 : 0;
      min = std::min(min, d);
      max = std::max(max, d);
    }
    const double mean = sum / kDraws;
    // Standard error of the mean is ~289/sqrt(1e5) ~ 0.9 ms; 1% is > 5 sigma.
    CHECK(mean == doctest::Approx(kCeiling / 2.0).epsilon(0.01));
    // Each decile holds ~10% of the draws (sd ~0.1%).
    CHECK(low > kDraws * 9 / 100);
    CHECK(low < kDraws * 11 / 100);
    CHECK(high > kDraws * 9 / 100);
    CHECK(high < kDraws * 11 / 100);
    // Both ends of the window are reachable: full jitter, not "ceiling/2 + jitter".
    CHECK(min == 0);
    CHECK(max == kCeiling);
  }
  SUBCASE("growing ceilings: each delay's mean is half its own ceiling") {
    // Draw many short sequences; attempt n of each should average ceiling_n / 2.
    std::vector<double> sums(8, 0.0);
    constexpr int kRuns = kDraws / 8;
    for (int run = 0; run < kRuns; ++run) {
      Backoff b({1000, 64000, 2.0}, static_cast<std::uint64_t>(run));
      for (std::size_t n = 0; n < sums.size(); ++n)
        sums[n] += b.next_delay_ms();
    }
    for (std::size_t n = 0; n < sums.size(); ++n) {
      CAPTURE(n);
      const double ceiling = std::min(64000.0, 1000.0 * std::pow(2.0, static_cast<double>(n)));
      CHECK(sums[n] / kRuns == doctest::Approx(ceiling / 2).epsilon(0.03));
    }
  }
}
