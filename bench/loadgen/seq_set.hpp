// The set of seqs one client holds in one room: counts duplicates and tracks
// the highest seq up to which it holds every message (the catch-up cursor).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace chatsdk::bench {

class SeqSet {
 public:
  /// False when seq was already held (a duplicate) or is not a valid seq.
  bool add(std::uint64_t seq) {
    if (seq == 0 || seq > (1u << 30)) {
      ++bad_;
      return false;
    }
    if (seq >= bits_.size()) bits_.resize(std::max<std::size_t>(seq + 1, bits_.size() * 2), 0);
    if (bits_[seq]) {
      ++dups_;
      return false;
    }
    bits_[seq] = 1;
    ++n_;
    if (seq > max_) max_ = seq;
    while (contig_ + 1 < bits_.size() && bits_[contig_ + 1])
      ++contig_;
    return true;
  }
  bool has(std::uint64_t seq) const { return seq < bits_.size() && bits_[seq]; }
  /// Seqs in 1..up_to not held.
  std::uint64_t missing(std::uint64_t up_to) const {
    std::uint64_t m = 0;
    for (std::uint64_t s = 1; s <= up_to; ++s)
      if (!has(s)) ++m;
    return m;
  }
  std::uint64_t max() const { return max_; }
  std::uint64_t contig() const { return contig_; }
  std::uint64_t size() const { return n_; }
  std::uint64_t dups() const { return dups_; }

 private:
  std::vector<std::uint8_t> bits_;
  std::uint64_t n_ = 0, dups_ = 0, bad_ = 0, max_ = 0, contig_ = 0;
};

}  // namespace chatsdk::bench
