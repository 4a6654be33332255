// A thin wrapper around SQLite's default page cache (pcache1) that skips
// truncations which cannot remove anything.
//
// Why: when a b-tree page split puts its new pages in ascending order,
// SQLite parks one of them for a moment at the pending-byte page number
// (1 GiB / page size + 1: 262,145 with 4 KiB pages). pcache1 remembers that
// as the largest page number it holds and never forgets it until a
// truncation. Every write transaction ends with "drop cached pages past the
// end of the database", and with that stale maximum pcache1 scans its whole
// hash table to find them: one bucket per cached page, ~16-32k buckets once
// the writer's 64 MiB cache is warm, tens of µs per commit, a quarter of the
// writer's CPU at 20k msgs/s (docs/benchmarks.md).
//
// The guard keeps, per cache, an upper bound on the page numbers it really
// holds: pages created by a fetch raise it; a page renumbered above it is
// counted as parked until it is renumbered again. A truncation is forwarded
// when a page at or past the limit may exist (so rolling back a transaction
// that grew the file still drops its pages) and skipped otherwise. Everything
// else passes straight through to pcache1.
//
// Threading: SQLite calls a cache from the one connection that owns it; the
// guard adds per-cache state and global counters only.
#pragma once

#include <atomic>
#include <cstdint>

namespace chatsdk::server::store {

/// Installs the guard in front of SQLite's current page cache. SQLite only
/// accepts this before it initialises: later calls return false and change
/// nothing (the default cache stays, correct and slower). Idempotent.
bool install_page_cache_guard();

/// Counters for tests and diagnostics.
struct PageCacheGuardStats {
  std::atomic<std::uint64_t> truncates_forwarded{0};
  std::atomic<std::uint64_t> truncates_skipped{0};
};
PageCacheGuardStats& page_cache_guard_stats();

}  // namespace chatsdk::server::store
