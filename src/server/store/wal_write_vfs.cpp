#include "server/store/wal_write_vfs.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <string>

namespace chatsdk::server::store {
namespace {

constexpr char kVfsName[] = "chatsdk-wal-write";
/// A WAL frame header; the WAL file header is 32 bytes and pages are >= 512.
constexpr int kFrameHeaderBytes = 24;
/// A transaction larger than this (a page-cache spill) goes out in pieces.
constexpr std::size_t kMaxBufferedBytes = std::size_t{4} << 20;
/// The unix VFS writes at most 128 KiB - 1 per call (it masks the length
/// with 0x1ffff: SQLite never writes more than a 64 KiB page), so a flush is
/// cut into calls of this size.
constexpr std::size_t kMaxWriteBytes = std::size_t{64} << 10;

struct WalBuffer {
  std::string bytes;
  sqlite3_int64 offset = 0;        // file offset of bytes[0]
  bool commit_page_next = false;   // the last frame header was a commit frame's
};

/// SQLite allocates vfs.szOsFile bytes per file: this header, then the
/// platform VFS's own file object.
struct ShimFile {
  sqlite3_file base;
  sqlite3_file* real;
  WalBuffer* wal;  // null for every file but a WAL
};

sqlite3_vfs g_vfs{};
sqlite3_io_methods g_methods{};
const char* g_name = nullptr;

sqlite3_vfs* platform(sqlite3_vfs* vfs) {
  return static_cast<sqlite3_vfs*>(vfs->pAppData);
}
ShimFile* shim(sqlite3_file* f) {
  return reinterpret_cast<ShimFile*>(f);
}
sqlite3_file* real(sqlite3_file* f) {
  return shim(f)->real;
}
const sqlite3_io_methods& real_methods(sqlite3_file* f) {
  return *real(f)->pMethods;
}

int flush(sqlite3_file* file) {
  WalBuffer* w = shim(file)->wal;
  if (w == nullptr || w->bytes.empty()) return SQLITE_OK;
  int rc = SQLITE_OK;
  for (std::size_t done = 0; done < w->bytes.size() && rc == SQLITE_OK;) {
    const std::size_t n = std::min(kMaxWriteBytes, w->bytes.size() - done);
    rc = real_methods(file).xWrite(real(file), w->bytes.data() + done, static_cast<int>(n),
                                   w->offset + static_cast<sqlite3_int64>(done));
    wal_write_stats().flushes.fetch_add(1, std::memory_order_relaxed);
    done += n;
  }
  w->bytes.clear();  // on failure SQLite fails the transaction; the frames are not part of the WAL
  return rc;
}

/// Big-endian u32 at `p` (WAL frame headers are big-endian).
std::uint32_t be32(const void* p) {
  const auto* b = static_cast<const unsigned char*>(p);
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         std::uint32_t{b[3]};
}

int shim_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  WalBuffer* w = shim(file)->wal;
  if (w == nullptr) return real_methods(file).xWrite(real(file), data, amount, offset);
  wal_write_stats().writes.fetch_add(1, std::memory_order_relaxed);
  const auto n = static_cast<std::size_t>(amount);
  if (!w->bytes.empty() &&
      (offset != w->offset + static_cast<sqlite3_int64>(w->bytes.size()) ||
       w->bytes.size() + n > kMaxBufferedBytes)) {
    if (const int rc = flush(file); rc != SQLITE_OK) return rc;
  }
  if (w->bytes.empty()) w->offset = offset;
  w->bytes.append(static_cast<const char*>(data), n);
  if (amount == kFrameHeaderBytes) {
    // Bytes 4..7: the database size after a commit, zero on other frames.
    w->commit_page_next = be32(static_cast<const char*>(data) + 4) != 0;
    return SQLITE_OK;
  }
  if (w->commit_page_next) {
    w->commit_page_next = false;
    return flush(file);  // the transaction's last frame: all of it goes out now
  }
  return SQLITE_OK;
}

// Every other call: flush a WAL's pending frames first, then pass through.
int shim_close(sqlite3_file* file) {
  const int frc = flush(file);
  delete shim(file)->wal;
  shim(file)->wal = nullptr;
  const int rc = real_methods(file).xClose(real(file));
  return frc != SQLITE_OK ? frc : rc;
}
int shim_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  if (const int rc = flush(file); rc != SQLITE_OK) return rc;
  return real_methods(file).xRead(real(file), out, amount, offset);
}
int shim_truncate(sqlite3_file* file, sqlite3_int64 size) {
  if (const int rc = flush(file); rc != SQLITE_OK) return rc;
  return real_methods(file).xTruncate(real(file), size);
}
int shim_sync(sqlite3_file* file, int flags) {
  if (const int rc = flush(file); rc != SQLITE_OK) return rc;
  return real_methods(file).xSync(real(file), flags);
}
int shim_file_size(sqlite3_file* file, sqlite3_int64* size) {
  if (const int rc = flush(file); rc != SQLITE_OK) return rc;
  return real_methods(file).xFileSize(real(file), size);
}
int shim_lock(sqlite3_file* file, int level) {
  if (const int rc = flush(file); rc != SQLITE_OK) return rc;
  return real_methods(file).xLock(real(file), level);
}
int shim_unlock(sqlite3_file* file, int level) {
  if (const int rc = flush(file); rc != SQLITE_OK) return rc;
  return real_methods(file).xUnlock(real(file), level);
}
int shim_check_reserved(sqlite3_file* file, int* out) {
  return real_methods(file).xCheckReservedLock(real(file), out);
}
int shim_file_control(sqlite3_file* file, int op, void* arg) {
  if (const int rc = flush(file); rc != SQLITE_OK) return rc;
  return real_methods(file).xFileControl(real(file), op, arg);
}
int shim_sector_size(sqlite3_file* file) {
  return real_methods(file).xSectorSize(real(file));
}
int shim_device_characteristics(sqlite3_file* file) {
  return real_methods(file).xDeviceCharacteristics(real(file));
}
int shim_shm_map(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  if (real_methods(file).iVersion < 2) return SQLITE_IOERR;
  return real_methods(file).xShmMap(real(file), region, size, extend, out);
}
int shim_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  if (real_methods(file).iVersion < 2) return SQLITE_IOERR;
  return real_methods(file).xShmLock(real(file), offset, n, flags);
}
void shim_shm_barrier(sqlite3_file* file) {
  if (real_methods(file).iVersion >= 2) real_methods(file).xShmBarrier(real(file));
}
int shim_shm_unmap(sqlite3_file* file, int delete_flag) {
  if (real_methods(file).iVersion < 2) return SQLITE_OK;
  return real_methods(file).xShmUnmap(real(file), delete_flag);
}
int shim_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  *out = nullptr;
  if (real_methods(file).iVersion < 3) return SQLITE_OK;
  if (const int rc = flush(file); rc != SQLITE_OK) return rc;
  return real_methods(file).xFetch(real(file), offset, amount, out);
}
int shim_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  if (real_methods(file).iVersion < 3) return SQLITE_OK;
  return real_methods(file).xUnfetch(real(file), offset, page);
}

int shim_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  ShimFile* f = shim(file);
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->wal = nullptr;
  sqlite3_vfs* p = platform(vfs);
  const int rc = p->xOpen(p, name, f->real, flags, out_flags);
  // SQLite calls xClose after a failed xOpen only if pMethods is set.
  f->base.pMethods = f->real->pMethods != nullptr ? &g_methods : nullptr;
  if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL) != 0) f->wal = new WalBuffer;
  return rc;
}

// The VFS's own calls go to the platform VFS with the platform's pointer (the
// unix VFS keeps state behind pAppData).
int shim_delete(sqlite3_vfs* v, const char* n, int sync) {
  return platform(v)->xDelete(platform(v), n, sync);
}
int shim_access(sqlite3_vfs* v, const char* n, int flags, int* out) {
  return platform(v)->xAccess(platform(v), n, flags, out);
}
int shim_full_pathname(sqlite3_vfs* v, const char* n, int size, char* out) {
  return platform(v)->xFullPathname(platform(v), n, size, out);
}
void* shim_dl_open(sqlite3_vfs* v, const char* n) {
  return platform(v)->xDlOpen(platform(v), n);
}
void shim_dl_error(sqlite3_vfs* v, int n, char* out) {
  platform(v)->xDlError(platform(v), n, out);
}
void (*shim_dl_sym(sqlite3_vfs* v, void* h, const char* s))(void) {
  return platform(v)->xDlSym(platform(v), h, s);
}
void shim_dl_close(sqlite3_vfs* v, void* h) {
  platform(v)->xDlClose(platform(v), h);
}
int shim_randomness(sqlite3_vfs* v, int n, char* out) {
  return platform(v)->xRandomness(platform(v), n, out);
}
int shim_sleep(sqlite3_vfs* v, int us) {
  return platform(v)->xSleep(platform(v), us);
}
int shim_current_time(sqlite3_vfs* v, double* out) {
  return platform(v)->xCurrentTime(platform(v), out);
}
int shim_get_last_error(sqlite3_vfs* v, int n, char* out) {
  return platform(v)->xGetLastError(platform(v), n, out);
}
int shim_current_time_int64(sqlite3_vfs* v, sqlite3_int64* out) {
  return platform(v)->xCurrentTimeInt64(platform(v), out);
}
int shim_set_system_call(sqlite3_vfs* v, const char* n, sqlite3_syscall_ptr f) {
  return platform(v)->xSetSystemCall(platform(v), n, f);
}
sqlite3_syscall_ptr shim_get_system_call(sqlite3_vfs* v, const char* n) {
  return platform(v)->xGetSystemCall(platform(v), n);
}
const char* shim_next_system_call(sqlite3_vfs* v, const char* n) {
  return platform(v)->xNextSystemCall(platform(v), n);
}

void register_vfs() {
  sqlite3_vfs* p = sqlite3_vfs_find(nullptr);
  // The WAL needs shared memory (io methods v2) and the unix VFS's v3 calls.
  if (p == nullptr || p->iVersion < 3) return;
  g_methods = sqlite3_io_methods{3,
                                 shim_close,
                                 shim_read,
                                 shim_write,
                                 shim_truncate,
                                 shim_sync,
                                 shim_file_size,
                                 shim_lock,
                                 shim_unlock,
                                 shim_check_reserved,
                                 shim_file_control,
                                 shim_sector_size,
                                 shim_device_characteristics,
                                 shim_shm_map,
                                 shim_shm_lock,
                                 shim_shm_barrier,
                                 shim_shm_unmap,
                                 shim_fetch,
                                 shim_unfetch};
  g_vfs.iVersion = 3;
  g_vfs.szOsFile = static_cast<int>(sizeof(ShimFile)) + p->szOsFile;
  g_vfs.mxPathname = p->mxPathname;
  g_vfs.zName = kVfsName;
  g_vfs.pAppData = p;
  g_vfs.xOpen = shim_open;
  g_vfs.xDelete = shim_delete;
  g_vfs.xAccess = shim_access;
  g_vfs.xFullPathname = shim_full_pathname;
  g_vfs.xDlOpen = shim_dl_open;
  g_vfs.xDlError = shim_dl_error;
  g_vfs.xDlSym = shim_dl_sym;
  g_vfs.xDlClose = shim_dl_close;
  g_vfs.xRandomness = shim_randomness;
  g_vfs.xSleep = shim_sleep;
  g_vfs.xCurrentTime = shim_current_time;
  g_vfs.xGetLastError = shim_get_last_error;
  g_vfs.xCurrentTimeInt64 = shim_current_time_int64;
  g_vfs.xSetSystemCall = shim_set_system_call;
  g_vfs.xGetSystemCall = shim_get_system_call;
  g_vfs.xNextSystemCall = shim_next_system_call;
  if (sqlite3_vfs_register(&g_vfs, 0) == SQLITE_OK) g_name = kVfsName;
}

}  // namespace

const char* wal_write_vfs_name() {
  static std::once_flag once;
  std::call_once(once, register_vfs);
  return g_name;
}

WalWriteStats& wal_write_stats() {
  static WalWriteStats stats;
  return stats;
}

}  // namespace chatsdk::server::store
