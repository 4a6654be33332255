// A SQLite VFS shim that writes a transaction's WAL frames with one write()
// instead of two per page.
//
// SQLite appends each WAL frame as two pwrite() calls, a 24-byte frame header
// and the page, so a commit of n pages costs 2n system calls. On this VM the
// calls, not the bytes, were a tenth of the server's CPU per message
// (docs/benchmarks.md). The shim wraps the platform VFS and, for WAL files
// only, collects contiguous writes in memory and writes them out in one call:
//
// - at the commit frame: a frame header whose "database size" field is
//   non-zero marks a transaction's last frame; the write of that frame's page
//   flushes, and a failure is returned from that xWrite like any write error.
//   So every frame of a transaction is in the file before SQLite publishes the
//   commit in the WAL index (which other connections read), exactly as without
//   the shim, and an acked transaction is on disk in the same state;
// - before anything else touches the file (read, sync, truncate, size, file
//   controls, close), when a write is not contiguous, and past a size cap.
//
// Every other file (database, journal, shared memory) and every other call
// passes straight through. Register once; open the connection that writes with
// sqlite3_open_v2(..., wal_write_vfs_name()).
//
// Threading: a SQLite file object is used by one connection, which the store
// keeps on one thread; the shim adds no shared state except its counters.
#pragma once

#include <atomic>
#include <cstdint>

namespace chatsdk::server::store {

/// Registers the shim (idempotent, thread-safe) and returns its VFS name, or
/// nullptr when it could not be registered (then use the default VFS).
const char* wal_write_vfs_name();

/// Counters for tests and diagnostics.
struct WalWriteStats {
  std::atomic<std::uint64_t> writes{0};   // WAL xWrite calls SQLite made
  std::atomic<std::uint64_t> flushes{0};  // write calls the shim made for them (<= 64 KiB each)
};
WalWriteStats& wal_write_stats();

}  // namespace chatsdk::server::store
