#include "server/store/page_cache_guard.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <new>

namespace chatsdk::server::store {
namespace {

sqlite3_pcache_methods2 g_inner{};  // the cache the guard wraps

/// What SQLite holds as a sqlite3_pcache*: the inner cache and what the guard
/// knows about the page numbers in it.
struct GuardedCache {
  sqlite3_pcache* inner = nullptr;
  unsigned max_key = 0;     // no page has a larger number, except parked ones
  unsigned parked = 0;      // pages renumbered above max_key (a split's temporary number)
  unsigned parked_max = 0;  // the largest number a parked page got
};

GuardedCache* guarded(sqlite3_pcache* p) {
  return reinterpret_cast<GuardedCache*>(p);
}

int init(void*) {
  return g_inner.xInit ? g_inner.xInit(g_inner.pArg) : SQLITE_OK;
}

void shutdown(void*) {
  if (g_inner.xShutdown) g_inner.xShutdown(g_inner.pArg);
}

sqlite3_pcache* create(int page_size, int extra_size, int purgeable) {
  auto* c = new (std::nothrow) GuardedCache;
  if (c == nullptr) return nullptr;
  c->inner = g_inner.xCreate(page_size, extra_size, purgeable);
  if (c->inner == nullptr) {
    delete c;
    return nullptr;
  }
  return reinterpret_cast<sqlite3_pcache*>(c);
}

void cache_size(sqlite3_pcache* p, int pages) {
  g_inner.xCachesize(guarded(p)->inner, pages);
}

int page_count(sqlite3_pcache* p) {
  return g_inner.xPagecount(guarded(p)->inner);
}

sqlite3_pcache_page* fetch(sqlite3_pcache* p, unsigned key, int create_flag) {
  GuardedCache* c = guarded(p);
  sqlite3_pcache_page* page = g_inner.xFetch(c->inner, key, create_flag);
  // A found page's number is already covered; a created one may be new.
  if (page != nullptr && key > c->max_key && create_flag != 0) c->max_key = key;
  return page;
}

void unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
  g_inner.xUnpin(guarded(p)->inner, page, discard);
}

void rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
  GuardedCache* c = guarded(p);
  g_inner.xRekey(c->inner, page, old_key, new_key);
  // Only a rekey puts a page above max_key, so a page there was parked.
  if (old_key > c->max_key && c->parked > 0) --c->parked;
  if (new_key > c->max_key) {
    ++c->parked;
    c->parked_max = std::max(c->parked_max, new_key);
  }
  if (c->parked == 0) c->parked_max = 0;
}

void truncate(sqlite3_pcache* p, unsigned limit) {
  GuardedCache* c = guarded(p);
  const bool may_hold = limit <= c->max_key || (c->parked > 0 && limit <= c->parked_max);
  if (!may_hold) {
    page_cache_guard_stats().truncates_skipped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  g_inner.xTruncate(c->inner, limit);
  page_cache_guard_stats().truncates_forwarded.fetch_add(1, std::memory_order_relaxed);
  // Every page left has a number below the limit: a bound for all of them,
  // parked ones included (a discarded parked page is never seen again).
  c->max_key = limit > 0 ? limit - 1 : 0;
  c->parked = 0;
  c->parked_max = 0;
}

void destroy(sqlite3_pcache* p) {
  GuardedCache* c = guarded(p);
  g_inner.xDestroy(c->inner);
  delete c;
}

void shrink(sqlite3_pcache* p) {
  if (g_inner.xShrink) g_inner.xShrink(guarded(p)->inner);
}

bool install() {
  sqlite3_pcache_methods2 current{};
  if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &current) != SQLITE_OK) return false;
  if (current.xCreate == nullptr) return false;
  if (current.xCreate == create) return true;  // wrapping the guard would recurse
  g_inner = current;
  sqlite3_pcache_methods2 guard{};
  guard.iVersion = 1;
  guard.pArg = nullptr;
  guard.xInit = init;
  guard.xShutdown = shutdown;
  guard.xCreate = create;
  guard.xCachesize = cache_size;
  guard.xPagecount = page_count;
  guard.xFetch = fetch;
  guard.xUnpin = unpin;
  guard.xRekey = rekey;
  guard.xTruncate = truncate;
  guard.xDestroy = destroy;
  guard.xShrink = shrink;
  return sqlite3_config(SQLITE_CONFIG_PCACHE2, &guard) == SQLITE_OK;
}

}  // namespace

bool install_page_cache_guard() {
  static std::mutex mu;
  static bool installed = false;
  std::lock_guard lock(mu);
  // A failed attempt (SQLite already initialised) may succeed after a
  // sqlite3_shutdown(), so only success is remembered.
  if (!installed) installed = install();
  return installed;
}

PageCacheGuardStats& page_cache_guard_stats() {
  static PageCacheGuardStats stats;
  return stats;
}

}  // namespace chatsdk::server::store
