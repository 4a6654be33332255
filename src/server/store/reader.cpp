#include "server/store/reader.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "server/store/rows.hpp"

namespace chatsdk::server::store {
namespace {

constexpr std::uint32_t kPage = 50;  // newest page for joined / too_far_behind
constexpr std::uint32_t kMembersDefault = 100;
constexpr std::uint32_t kMembersMax = 1000;
constexpr std::uint32_t kChannelsMax = 1000;

constexpr char kMyChannels[] = "SELECT " CHATSDK_CHAN_COLS
                               ", m.role FROM members AS m JOIN channels AS c ON c.id = m.channel "
                               "WHERE m.user = ?1 AND m.removed = 0";
constexpr char kChannelByCid[] = "SELECT " CHATSDK_CHAN_COLS " FROM channels AS c WHERE c.cid = ?1";
constexpr char kChannelsAfter[] =
    "SELECT " CHATSDK_CHAN_COLS " FROM channels AS c WHERE c.cid > ?1 ORDER BY c.cid LIMIT ?2";
constexpr char kMyCursors[] =
    "SELECT channel, read_seq, delivered_seq FROM cursors WHERE user = ?1";
constexpr char kRemovedVersion[] =
    "SELECT m.version FROM members AS m JOIN channels AS c ON c.id = m.channel "
    "WHERE c.cid = ?1 AND m.user = ?2";
constexpr char kMentionCount[] =
    "SELECT count(*) FROM mentions WHERE user = ?1 AND channel = ?2 AND seq > ?3";
// Changed-after-send messages (the partial index messages_by_version).
constexpr char kChangedByVersion[] = "SELECT " CHATSDK_MSG_COLS
                                     " FROM messages WHERE channel = ?1 AND version > ?2 "
                                     "AND version <> created_version ORDER BY version LIMIT ?3";
// Messages sent after a seq, with their creation version.
constexpr char kSentAfter[] = "SELECT " CHATSDK_MSG_COLS
                              ", created_version FROM messages WHERE channel = ?1 AND seq > ?2 "
                              "ORDER BY seq LIMIT ?3";
constexpr char kCreatedVersion[] =
    "SELECT created_version FROM messages WHERE channel = ?1 AND seq = ?2";
constexpr char kMembersByVersion[] =
    "SELECT m.user, m.role, m.removed, m.version, coalesce(cu.read_seq, 0) FROM members AS m "
    "LEFT JOIN cursors AS cu ON cu.user = m.user AND cu.channel = m.channel "
    "WHERE m.channel = ?1 AND m.version > ?2 AND m.version <= ?3 ORDER BY m.version";
constexpr char kMembersActive[] =
    "SELECT m.user, m.role, m.removed, m.version, coalesce(cu.read_seq, 0) FROM members AS m "
    "LEFT JOIN cursors AS cu ON cu.user = m.user AND cu.channel = m.channel "
    "WHERE m.channel = ?1 AND m.removed = 0 ORDER BY m.user";
constexpr char kMembersVersions[] =
    "SELECT version FROM members WHERE channel = ?1 AND version > ?2 ORDER BY version LIMIT ?3";
constexpr char kMembersPage[] =
    "SELECT m.user, m.role, m.version, coalesce(cu.read_seq, 0) FROM members AS m "
    "LEFT JOIN cursors AS cu ON cu.user = m.user AND cu.channel = m.channel "
    "WHERE m.channel = ?1 AND m.removed = 0 AND m.user > ?2 ORDER BY m.user LIMIT ?3";
constexpr char kIsMember[] =
    "SELECT 1 FROM members WHERE channel = ?1 AND user = ?2 AND removed = 0";
constexpr char kNewest[] =
    "SELECT " CHATSDK_MSG_COLS " FROM messages WHERE channel = ?1 ORDER BY seq DESC LIMIT ?2";
constexpr char kBefore[] = "SELECT " CHATSDK_MSG_COLS
                           " FROM messages WHERE channel = ?1 AND seq < ?2 "
                           "ORDER BY seq DESC LIMIT ?3";
constexpr char kAfter[] = "SELECT " CHATSDK_MSG_COLS
                          " FROM messages WHERE channel = ?1 AND seq > ?2 AND seq < ?3 "
                          "ORDER BY seq LIMIT ?4";
constexpr char kMine[] =
    "SELECT emoji FROM reactions WHERE channel = ?1 AND seq = ?2 AND user = ?3";
constexpr char kProfile[] =
    "SELECT display_name, avatar_url, metadata, updated_at FROM users WHERE id = ?1";
constexpr char kLastSeen[] = "SELECT last_seen FROM users WHERE id = ?1";

/// A read transaction: one snapshot for the whole query.
class Snapshot {
 public:
  explicit Snapshot(Db& db) : db_(db) { db_.run_cached("BEGIN"); }
  ~Snapshot() {
    if (db_.in_transaction()) {
      const bool failed = db_.failed();
      if (failed) db_.clear_error();  // a failed query must not stop the rollback
      db_.run_cached(failed ? "ROLLBACK" : "COMMIT");
    }
    db_.clear_error();
  }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

 private:
  Db& db_;
};

Error storage_error(const Db& db) {
  return Error{Errc::internal, "store read: " + db.error()};
}

}  // namespace

struct Reader::Chan {
  std::int64_t id = 0;
  proto::ChannelInfo info;
  Version info_version = 0;
};

ReadResult Reader::run(ReadOp& op) {
  Snapshot snap(db_);
  ReadResult r = std::visit(
      [this](auto& o) -> ReadResult {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, SyncQuery>) return sync(o);
        if constexpr (std::is_same_v<T, HistoryQuery>) return history(o);
        if constexpr (std::is_same_v<T, MembersQuery>) return members(o);
        if constexpr (std::is_same_v<T, ProfilesQuery>) return profiles(o);
        if constexpr (std::is_same_v<T, LastSeenQuery>) return last_seen(o);
        if constexpr (std::is_same_v<T, ChannelsQuery>) return channels(o);
      },
      op);
  if (db_.failed()) return storage_error(db_);
  return r;
}

// ---------------------------------------------------------------- helpers

void Reader::mark_mine(std::int64_t channel, const std::string& user,
                       std::vector<proto::Message>& messages) {
  if (user.empty()) return;
  for (auto& m : messages) {
    if (m.reactions.empty()) continue;
    Query q(db_, kMine);
    q.bind(1, channel).bind(2, m.seq).bind(3, user);
    while (q.step()) {
      const auto emoji = q.text(0);
      for (auto& r : m.reactions) {
        if (r.emoji == emoji) r.mine = true;
      }
    }
  }
}

std::vector<proto::Message> Reader::newest(std::int64_t channel, const std::string& cid,
                                           std::uint32_t limit) {
  std::vector<proto::Message> out;
  Query q(db_, kNewest);
  q.bind(1, channel).bind(2, limit);
  while (q.step())
    read_message(q, 0, cid, out.emplace_back());
  std::reverse(out.begin(), out.end());
  return out;
}

void Reader::fill_members(const Chan& c, Version after, Version upto, bool changed_only,
                          std::vector<proto::Member>& out) {
  const bool small = c.info.member_count <= config_.small_channel_threshold;
  auto row = [&](const Query& q) {
    proto::Member m;
    m.user = q.str(0);
    m.role = static_cast<Role>(q.u32(1));
    m.removed = q.flag(2);
    m.version = q.u64(3);
    if (small && !m.removed) m.read_seq = q.u64(4);
    out.push_back(std::move(m));
  };
  if (changed_only) {
    Query q(db_, kMembersByVersion);
    q.bind(1, c.id).bind(2, after).bind(3, upto);
    while (q.step())
      row(q);
  } else {
    Query q(db_, kMembersActive);
    q.bind(1, c.id);
    while (q.step())
      row(q);
  }
}

// ---------------------------------------------------------------- sync

Seq Reader::sent_at_or_before(std::int64_t channel, Seq last_seq, Version cursor) {
  // created_version strictly grows with seq and is at least seq + 1 (the
  // channel's creation is version 1), so the answer lies in [0, min(last, cursor)].
  Seq lo = 0;
  Seq hi = std::min<Seq>(last_seq, cursor);
  while (lo < hi) {
    const Seq mid = lo + (hi - lo + 1) / 2;
    Query q(db_, kCreatedVersion);
    q.bind(1, channel).bind(2, mid);
    if (!q.step()) return lo;  // storage failure: recorded, the result is dropped
    if (q.u64(0) <= cursor) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

void Reader::delta_changes(const Chan& c, Version cursor, std::uint32_t n, proto::ChannelSync& cs,
                           Version& cover) {
  // Every change after `cursor` is one of: a message never changed since its
  // send (version == created_version; found by seq after the last message
  // sent at or before the cursor), a message changed later (partial index by
  // version), or a membership (by version). Each list is read up to n+1
  // entries; `horizon` is the highest version up to which all three lists are
  // complete, and the reply covers the first n changes below it.
  constexpr Version kAll = ~Version{0};
  Version horizon = c.info.version;
  std::vector<proto::Message> fresh;
  {
    const Seq after = sent_at_or_before(c.id, c.info.last_seq, cursor);
    Query q(db_, kSentAfter);
    q.bind(1, c.id).bind(2, after).bind(3, n + 1);
    std::uint32_t rows = 0;
    Version last_created = kAll;
    while (q.step()) {
      ++rows;
      last_created = q.u64(kMsgColCount);
      if (q.u64(1) != last_created) continue;  // changed since: comes from the index
      read_message(q, 0, c.info.channel, fresh.emplace_back());
    }
    if (rows > n) horizon = std::min(horizon, last_created);
  }
  std::vector<proto::Message> changed;
  {
    Query q(db_, kChangedByVersion);
    q.bind(1, c.id).bind(2, cursor).bind(3, n + 1);
    while (q.step())
      read_message(q, 0, c.info.channel, changed.emplace_back());
    if (changed.size() > n) horizon = std::min(horizon, changed.back().version);
  }
  std::vector<Version> member_versions;
  {
    Query q(db_, kMembersVersions);
    q.bind(1, c.id).bind(2, cursor).bind(3, n + 1);
    while (q.step())
      member_versions.push_back(q.u64(0));
    if (member_versions.size() > n) horizon = std::min(horizon, member_versions.back());
  }
  std::vector<Version> all;
  for (const auto& m : fresh)
    all.push_back(m.version);
  for (const auto& m : changed)
    all.push_back(m.version);
  all.insert(all.end(), member_versions.begin(), member_versions.end());
  std::erase_if(all, [&](Version v) { return v > horizon; });
  cover = horizon;
  if (all.size() > n) {
    std::nth_element(all.begin(), all.begin() + (n - 1), all.end());
    cover = all[n - 1];
  }
  cs.messages.reserve(fresh.size() + changed.size());
  std::merge(std::make_move_iterator(fresh.begin()), std::make_move_iterator(fresh.end()),
             std::make_move_iterator(changed.begin()), std::make_move_iterator(changed.end()),
             std::back_inserter(cs.messages), [](const proto::Message& a, const proto::Message& b) {
               return a.version < b.version;
             });
  std::erase_if(cs.messages, [&](const proto::Message& m) { return m.version > cover; });
  if (c.info_version > cursor && c.info_version <= cover) cs.info = c.info;
  fill_members(c, cursor, cover, true, cs.members);
}

ReadResult Reader::sync(const SyncQuery& sq) {
  proto::SyncResult out;
  std::unordered_map<std::string, Chan> mine;
  std::vector<std::string> unlisted_order;
  {
    Query q(db_, kMyChannels);
    q.bind(1, sq.user);
    while (q.step()) {
      Chan c;
      read_channel(q, 0, c.id, c.info, c.info_version);
      c.info.role = static_cast<Role>(q.u32(12));
      unlisted_order.push_back(c.info.channel);
      mine.emplace(c.info.channel, std::move(c));
    }
  }
  std::unordered_map<std::int64_t, std::pair<Seq, Seq>> cursors;
  {
    Query q(db_, kMyCursors);
    q.bind(1, sq.user);
    while (q.step())
      cursors.emplace(q.i64(0), std::pair<Seq, Seq>{q.u64(1), q.u64(2)});
  }

  const std::uint32_t per_channel =
      sq.limit == 0 ? config_.sync_channel_max : std::min(sq.limit, config_.sync_channel_max);
  std::uint64_t budget = config_.sync_total_max;

  auto counts = [&](const Chan& c, proto::ChannelSync& cs) {
    cs.head_version = c.info.version;
    cs.last_seq = c.info.last_seq;
    auto it = cursors.find(c.id);
    if (it != cursors.end()) {
      cs.read_seq = std::min(it->second.first, c.info.last_seq);
      cs.delivered_seq = std::min(it->second.second, c.info.last_seq);
    }
    cs.unread = static_cast<std::uint32_t>(c.info.last_seq - cs.read_seq);
    Query q(db_, kMentionCount);
    q.bind(1, sq.user).bind(2, c.id).bind(3, cs.read_seq);
    if (q.step()) cs.mentions = q.u32(0);
  };
  // joined / too_far_behind: info, the newest page, all members of a small channel.
  auto snapshot = [&](const Chan& c, proto::SyncStatus status) {
    proto::ChannelSync cs;
    cs.channel = c.info.channel;
    cs.status = status;
    cs.info = c.info;
    cs.messages = newest(c.id, c.info.channel, kPage);
    mark_mine(c.id, sq.user, cs.messages);
    if (c.info.member_count <= config_.small_channel_threshold) {
      fill_members(c, 0, 0, false, cs.members);
    }
    cs.version = c.info.version;
    counts(c, cs);
    budget -= std::min<std::uint64_t>(budget, cs.messages.size());
    out.channels.push_back(std::move(cs));
  };
  auto delta = [&](const Chan& c, Version cursor) {
    proto::ChannelSync cs;
    cs.channel = c.info.channel;
    cs.status = proto::SyncStatus::delta;
    Version cover = c.info.version;
    if (cursor < c.info.version) {
      const std::uint32_t n =
          static_cast<std::uint32_t>(std::min<std::uint64_t>(per_channel, budget));
      delta_changes(c, cursor, n, cs, cover);
      mark_mine(c.id, sq.user, cs.messages);
    }
    cs.version = cover;
    counts(c, cs);
    if (cover < c.info.version) out.more = true;
    budget -= std::min<std::uint64_t>(budget, cs.messages.size() + cs.members.size());
    out.channels.push_back(std::move(cs));
  };

  std::unordered_set<std::string> listed;
  for (const auto& cur : sq.cursors) {
    if (!listed.insert(cur.channel).second) continue;
    auto it = mine.find(cur.channel);
    if (it == mine.end()) {
      proto::ChannelSync cs;
      cs.channel = cur.channel;
      cs.status = proto::SyncStatus::removed;
      Query q(db_, kRemovedVersion);
      q.bind(1, cur.channel).bind(2, sq.user);
      if (q.step()) cs.version = q.u64(0);
      out.channels.push_back(std::move(cs));
      continue;
    }
    const Chan& c = it->second;
    const bool changes = cur.version < c.info.version;
    if (changes && budget == 0) {
      out.more = true;
      continue;
    }
    if (changes && c.info.version - cur.version > config_.too_far_behind) {
      snapshot(c, proto::SyncStatus::too_far_behind);
    } else {
      delta(c, cur.version);
    }
  }
  for (const auto& cid : unlisted_order) {
    if (listed.count(cid) != 0) continue;
    if (budget == 0) {
      out.more = true;
      continue;
    }
    snapshot(mine.at(cid), proto::SyncStatus::joined);
  }
  return ReadValue{std::move(out)};
}

// ---------------------------------------------------------------- history

ReadResult Reader::history(const HistoryQuery& hq) {
  Chan c;
  {
    Query q(db_, kChannelByCid);
    q.bind(1, hq.channel);
    if (!q.step()) return Error{Errc::not_found, "no such channel"};
    read_channel(q, 0, c.id, c.info, c.info_version);
  }
  if (!hq.user.empty()) {
    Query q(db_, kIsMember);
    q.bind(1, c.id).bind(2, hq.user);
    if (!q.step()) return Error{Errc::not_member, "not a member"};
  }
  const std::uint32_t limit = hq.limit == 0 ? std::min(kPage, config_.history_max)
                                            : std::min(hq.limit, config_.history_max);
  const Seq last = c.info.last_seq;
  proto::HistoryPage page;
  page.channel = c.info.channel;
  auto& msgs = page.messages;
  // Seqs are gapless (1..last_seq), so "is there anything beyond" is arithmetic.
  if (hq.after.has_value()) {
    const Seq after = *hq.after;
    const Seq upper = hq.before.value_or(last + 1);
    Query q(db_, kAfter);
    q.bind(1, c.id).bind(2, after).bind(3, upper).bind(4, limit);
    while (q.step())
      read_message(q, 0, c.info.channel, msgs.emplace_back());
    const Seq top = msgs.empty() ? after : msgs.back().seq;
    page.more_after = top < last;
    page.more_before = std::min(after, last) >= 1;
  } else {
    const bool before = hq.before.has_value();
    {
      Query q(db_, before ? kBefore : kNewest);
      q.bind(1, c.id);
      if (before) {
        q.bind(2, *hq.before).bind(3, limit);
      } else {
        q.bind(2, limit);
      }
      while (q.step())
        read_message(q, 0, c.info.channel, msgs.emplace_back());
    }
    std::reverse(msgs.begin(), msgs.end());
    page.more_before = !msgs.empty() && msgs.front().seq > 1;
    page.more_after = before && (msgs.empty() ? *hq.before <= last : msgs.back().seq < last);
  }
  mark_mine(c.id, hq.user, msgs);
  return ReadValue{std::move(page)};
}

// ---------------------------------------------------------------- members, users, admin

ReadResult Reader::members(const MembersQuery& mq) {
  Chan c;
  {
    Query q(db_, kChannelByCid);
    q.bind(1, mq.channel);
    if (!q.step()) return Error{Errc::not_found, "no such channel"};
    read_channel(q, 0, c.id, c.info, c.info_version);
  }
  const std::uint32_t limit = mq.limit == 0 ? kMembersDefault : std::min(mq.limit, kMembersMax);
  const bool small = c.info.member_count <= config_.small_channel_threshold;
  proto::MembersPage page;
  page.channel = c.info.channel;
  Query q(db_, kMembersPage);
  q.bind(1, c.id).bind(2, mq.after).bind(3, limit + 1);
  while (q.step()) {
    if (page.members.size() == limit) {
      page.more = true;
      break;
    }
    proto::Member m;
    m.user = q.str(0);
    m.role = static_cast<Role>(q.u32(1));
    m.version = q.u64(2);
    if (small) m.read_seq = q.u64(3);
    page.members.push_back(std::move(m));
  }
  return ReadValue{std::move(page)};
}

ReadResult Reader::profiles(const ProfilesQuery& pq) {
  proto::Profiles out;
  std::unordered_set<std::string> seen;
  for (const auto& u : pq.users) {
    if (!seen.insert(u).second) continue;
    proto::UserProfile p;
    p.user = u;
    Query q(db_, kProfile);
    q.bind(1, u);
    if (q.step()) {
      p.display_name = q.str(0);
      p.avatar_url = q.str(1);
      p.metadata.json = q.str(2);
      p.updated_at = q.i64(3);
    }
    out.users.push_back(std::move(p));
  }
  return ReadValue{std::move(out)};
}

ReadResult Reader::last_seen(const LastSeenQuery& lq) {
  proto::PresenceList out;
  std::unordered_set<std::string> seen;
  for (const auto& u : lq.users) {
    if (!seen.insert(u).second) continue;
    proto::PresenceInfo p;
    p.user = u;
    Query q(db_, kLastSeen);
    q.bind(1, u);
    if (q.step()) p.last_seen = q.i64(0);
    out.users.push_back(std::move(p));
  }
  return ReadValue{std::move(out)};
}

ReadResult Reader::channels(const ChannelsQuery& cq) {
  std::vector<proto::ChannelInfo> out;
  const std::uint32_t limit = cq.limit == 0 ? 100 : std::min(cq.limit, kChannelsMax);
  Query q(db_, kChannelsAfter);
  q.bind(1, cq.after).bind(2, limit);
  while (q.step()) {
    std::int64_t id = 0;
    Version iv = 0;
    read_channel(q, 0, id, out.emplace_back(), iv);
  }
  return ReadValue{std::move(out)};
}

}  // namespace chatsdk::server::store
