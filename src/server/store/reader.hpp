// Answers ReadOps from the reader thread's own connection. Each query runs in
// one read transaction, so a sync or history page is one consistent snapshot
// of committed state (WAL readers never block the writer).
//
// Threading: reader thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "server/config.hpp"
#include "server/store/sqlite_db.hpp"
#include "server/store/store.hpp"

namespace chatsdk::server::store {

class Reader {
 public:
  Reader(const Config& config, Db& db) : config_(config), db_(db) {}
  ReadResult run(ReadOp& op);

 private:
  struct Chan;  // a channel row as sync sees it
  ReadResult sync(const SyncQuery& q);
  ReadResult history(const HistoryQuery& q);
  ReadResult members(const MembersQuery& q);
  ReadResult profiles(const ProfilesQuery& q);
  ReadResult last_seen(const LastSeenQuery& q);
  ReadResult channels(const ChannelsQuery& q);

  /// Sets reactions[].mine on `messages` for `user`.
  void mark_mine(std::int64_t channel, const std::string& user,
                 std::vector<proto::Message>& messages);
  /// The newest `limit` messages, ascending.
  std::vector<proto::Message> newest(std::int64_t channel, const std::string& cid,
                                     std::uint32_t limit);
  /// The newest seq whose send had version <= cursor (0 if none).
  Seq sent_at_or_before(std::int64_t channel, Seq last_seq, Version cursor);
  /// A delta's changes after `cursor`, at most n; sets the version covered.
  void delta_changes(const Chan& c, Version cursor, std::uint32_t n, proto::ChannelSync& cs,
                     Version& cover);
  void fill_members(const Chan& c, proto::Version after, proto::Version upto, bool removed_too,
                    std::vector<proto::Member>& out);

  const Config& config_;
  Db& db_;
};

}  // namespace chatsdk::server::store
