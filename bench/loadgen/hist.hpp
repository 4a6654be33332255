// Log-linear latency histogram in microseconds (about 0.1% relative error),
// the same bucket layout as the Socket.IO peer's load.js so figures line up.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

namespace chatsdk::bench {

class Hist {
 public:
  static constexpr std::size_t kBuckets = 2048 + 22 * 1024;

  Hist() : b_(kBuckets, 0) {}

  static std::size_t index(std::uint32_t us) {
    if (us < 2048) return us;
    const int e = 31 - std::countl_zero(us) - 10;
    return 2048 + static_cast<std::size_t>(e - 1) * 1024 + ((us >> e) - 1024);
  }
  static double value(std::size_t i) {
    if (i < 2048) return static_cast<double>(i);
    const std::size_t e = (i - 2048) / 1024 + 1;
    const std::size_t m = (i - 2048) % 1024 + 1024;
    return (static_cast<double>(m) + 0.5) * std::ldexp(1.0, static_cast<int>(e));
  }

  void record(double ms) {
    if (ms < 0) {
      ++neg_;
      ms = 0;
    }
    double us = std::round(ms * 1000.0);
    if (us > 2147483647.0) us = 2147483647.0;
    ++b_[index(static_cast<std::uint32_t>(us))];
    ++n_;
    sum_ += ms;
    max_ = std::max(max_, ms);
  }

  /// p-th percentile in ms; empty when nothing was recorded.
  std::optional<double> pct(double p) const {
    if (n_ == 0) return std::nullopt;
    const auto target = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(static_cast<double>(n_) * p / 100.0)));
    std::uint64_t c = 0;
    for (std::size_t i = 0; i < b_.size(); ++i) {
      c += b_[i];
      if (c >= target) return std::min(value(i) / 1000.0, max_);
    }
    return max_;
  }

  void merge(const Hist& o) {
    for (std::size_t i = 0; i < b_.size(); ++i)
      b_[i] += o.b_[i];
    n_ += o.n_;
    sum_ += o.sum_;
    neg_ += o.neg_;
    max_ = std::max(max_, o.max_);
  }

  std::uint64_t count() const { return n_; }
  double max() const { return max_; }
  double mean() const { return n_ ? sum_ / static_cast<double>(n_) : 0.0; }
  std::uint64_t negatives() const { return neg_; }
  const std::vector<std::uint64_t>& buckets() const { return b_; }
  std::vector<std::uint64_t>& buckets() { return b_; }
  void set_totals(std::uint64_t n, double sum, double mx, std::uint64_t neg) {
    n_ = n;
    sum_ = sum;
    max_ = mx;
    neg_ = neg;
  }
  double sum() const { return sum_; }

 private:
  std::vector<std::uint64_t> b_;
  std::uint64_t n_ = 0;
  std::uint64_t neg_ = 0;
  double sum_ = 0;
  double max_ = 0;
};

}  // namespace chatsdk::bench
