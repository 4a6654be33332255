// The store's schema as an ordered list of migrations. PRAGMA user_version
// holds the number of steps applied; opening a database applies the missing
// steps, each in its own transaction, so an older file upgrades in place and a
// crash mid-upgrade leaves it at the previous version.
#pragma once

#include <cstddef>

#include "chatsdk/result.hpp"
#include "server/store/sqlite_db.hpp"

namespace chatsdk::server::store {

/// Number of migration steps (= user_version of an up-to-date database).
std::size_t schema_version();

/// Applies steps until user_version == target (default: latest). A database
/// newer than this binary is refused (io_error) rather than misread.
[[nodiscard]] Result<void> migrate(Db& db, std::size_t target = 0);

}  // namespace chatsdk::server::store
