// chatsdk-cold-start: how long a client takes from Client::create to a
// rendered first screen (channel list + the newest messages of the most
// recently active channel) on a big local cache, with no network at all.
#pragma once

#include <cstdint>
#include <string>

namespace chatsdk::bench {

struct PopulateOptions {
  std::string db;
  std::uint32_t channels = 1000;
  std::uint64_t messages = 100000;
  std::uint64_t seed = 42;
};

/// Builds a cache file through the client's own Store (real schema).
/// Returns 0 on success, prints the failure and returns 1 otherwise.
int populate(const PopulateOptions& o);

/// One measurement in this (fresh) process; prints a single `RUN ...` line.
int measure_once(const std::string& db);

/// Runs measure_once in `runs` fresh processes (re-exec of /proc/self/exe)
/// and prints the `RESULT cold_start ...` summary. `cold` drops the database
/// file's pages from the page cache before each run (posix_fadvise).
int measure(const std::string& db, unsigned runs, bool cold);

}  // namespace chatsdk::bench
