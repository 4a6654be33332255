#include "server/store/writer.hpp"

#include <algorithm>
#include <cstdio>

#include "server/store/rows.hpp"

namespace chatsdk::server::store {
using writer_detail::failure;

namespace {

constexpr char kLoadChannels[] = "SELECT " CHATSDK_CHAN_COLS " FROM channels AS c";
constexpr char kRole[] =
    "SELECT role FROM members WHERE channel = ?1 AND user = ?2 AND removed = 0";
constexpr char kActiveMembers[] =
    "SELECT user, role FROM members WHERE channel = ?1 AND removed = 0 ORDER BY user";
constexpr char kSendDedupe[] =
    "SELECT channel, seq, created_version + (reply_to <> 0), created_at FROM messages "
    "WHERE sender = ?1 AND client_id = ?2";
constexpr char kLoadMessage[] =
    "SELECT " CHATSDK_MSG_COLS " FROM messages WHERE channel = ?1 AND seq = ?2";
constexpr char kCursorAdvance[] =
    "INSERT INTO cursors (user, channel, read_seq, delivered_seq) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (user, channel) DO UPDATE SET read_seq = max(read_seq, excluded.read_seq), "
    "delivered_seq = max(delivered_seq, excluded.delivered_seq)";
constexpr char kOpDedupe[] =
    "SELECT kind, channel, seq, version FROM op_dedupe WHERE user = ?1 AND client_id = ?2";
constexpr char kOpRemember[] =
    "INSERT OR REPLACE INTO op_dedupe (user, client_id, kind, channel, seq, version) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr char kFlushCounters[] =
    "UPDATE channels SET last_seq = ?2, version = ?3, member_count = ?4 WHERE id = ?1";
constexpr char kLoadProfile[] =
    "SELECT display_name, avatar_url, metadata FROM users WHERE id = ?1";
constexpr char kUpsertProfile[] =
    "INSERT INTO users (id, display_name, avatar_url, metadata, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET display_name = "
    "excluded.display_name, "
    "avatar_url = excluded.avatar_url, metadata = excluded.metadata, updated_at = "
    "excluded.updated_at";
constexpr char kLastSeen[] =
    "INSERT INTO users (id, last_seen) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET "
    "last_seen = max(last_seen, excluded.last_seen)";

}  // namespace

Writer::Writer(const Config& config, Db& db)
    : config_(config), db_(db), rng_(std::random_device{}()) {}

Result<void> Writer::load() {
  channels_.clear();
  by_id_.clear();
  Query q(db_, kLoadChannels);
  while (q.step()) {
    auto ch = std::make_unique<Channel>();
    read_channel(q, 0, ch->id, ch->info, ch->info_version);
    by_id_[ch->id] = ch.get();
    channels_.emplace(ch->info.channel, std::move(ch));
  }
  if (db_.failed()) return Error{Errc::io_error, db_.error()};
  return {};
}

void Writer::begin() {
  ++epoch_;
  undo_.clear();
}

void Writer::touch(Channel& ch, bool info_change) {
  if (ch.epoch != epoch_) {
    ch.epoch = epoch_;
    undo_.push_back(Undo{&ch, ch.info.last_seq, ch.info.version, ch.info.member_count,
                         ch.info_version, std::nullopt, false});
  }
  if (info_change) {
    // Keep the oldest saved info: the first info change of the batch saves it.
    for (auto& u : undo_) {
      if (u.ch == &ch && !u.info && !u.created) u.info = ch.info;
    }
  }
}

void Writer::flush() {
  for (const Undo& u : undo_) {
    // A channel created in this batch saved member_count 0: always written.
    if (u.ch->info.member_count != u.member_count) {
      write_row_counters(*u.ch);
    } else if (u.ch->info.last_seq != u.last_seq || u.ch->info.version != u.version) {
      u.ch->row_lags = true;
    }
  }
}

void Writer::write_lagging_rows() {
  for (auto& [cid, ch] : channels_) {
    if (ch->row_lags) write_row_counters(*ch);
  }
}

void Writer::write_row_counters(Channel& ch) {
  Query q(db_, kFlushCounters);
  q.bind(1, ch.id).bind(2, ch.info.last_seq).bind(3, ch.info.version);
  q.bind(4, ch.info.member_count);
  q.run();
  ch.row_lags = false;
}

void Writer::rollback() {
  // Newest first, so a channel created in this batch is erased last.
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    Channel* ch = it->ch;
    if (it->created) {
      by_id_.erase(ch->id);
      channels_.erase(ch->info.channel);
      continue;
    }
    // Its membership may have come from rows this batch wrote and lost.
    ch->known_members.clear();
    ch->info.last_seq = it->last_seq;
    ch->info.version = it->version;
    ch->info.member_count = it->member_count;
    ch->info_version = it->info_version;
    if (it->info) {
      ch->info.name = it->info->name;
      ch->info.is_public = it->info->is_public;
      ch->info.metadata = it->info->metadata;
    }
    ch->epoch = 0;
    ch->row_lags = true;  // unknown which row write survived: check at close
  }
  undo_.clear();
}

void Writer::committed() {
  undo_.clear();
}

WriteResult Writer::apply(WriteOp& op) {
  return std::visit(
      [this](auto& o) -> WriteResult {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, SendOp>) return send(o);
        if constexpr (std::is_same_v<T, EditOp>) return edit(o);
        if constexpr (std::is_same_v<T, DeleteOp>) return del(o);
        if constexpr (std::is_same_v<T, ReactOp>) return react(o);
        if constexpr (std::is_same_v<T, CreateChannelOp>) return create(o);
        if constexpr (std::is_same_v<T, UpdateChannelOp>) return update(o);
        if constexpr (std::is_same_v<T, AddMembersOp>) return add(o);
        if constexpr (std::is_same_v<T, RemoveMembersOp>) return remove(o);
        if constexpr (std::is_same_v<T, SetRoleOp>) return set_role(o);
        if constexpr (std::is_same_v<T, SetProfileOp>) return profile(o);
        if constexpr (std::is_same_v<T, CursorsOp>) return cursors(o);
        if constexpr (std::is_same_v<T, LastSeenOp>) return last_seen(o);
      },
      op);
}

// ---------------------------------------------------------------- helpers

Writer::Channel* Writer::find(const std::string& cid) {
  auto it = channels_.find(cid);
  return it == channels_.end() ? nullptr : it->second.get();
}

std::optional<Role> Writer::role_of(const Channel& ch, const std::string& user) {
  Query q(db_, kRole);
  q.bind(1, ch.id).bind(2, user);
  if (!q.step()) return std::nullopt;
  return static_cast<Role>(q.u32(0));
}

bool Writer::is_member(Channel& ch, const std::string& user) {
  if (ch.known_members.count(user) != 0) return true;
  if (!role_of(ch, user)) return false;
  ch.known_members.insert(user);
  return true;
}

bool Writer::replayed(const std::string& user, const std::string& client_id, WriteResult& out) {
  if (client_id.empty()) return false;
  {
    Query q(db_, kOpDedupe);
    q.bind(1, user).bind(2, client_id);
    if (q.step()) {
      out.already_applied = true;
      out.channel = q.str(1);
      out.seq = q.u64(2);
      out.version = q.u64(3);
      const auto kind = static_cast<OpKind>(q.i64(0));
      if (kind == OpKind::create || kind == OpKind::update || kind == OpKind::add ||
          kind == OpKind::remove || kind == OpKind::role) {
        if (Channel* ch = find(out.channel)) out.channel_state = channel_record(*ch);
      }
      return true;
    }
  }
  // The same key used earlier by a send (client ids are one namespace per user).
  return sent_before(user, client_id, out);
}

bool Writer::sent_before(const std::string& user, const std::string& client_id, WriteResult& out) {
  if (client_id.empty()) return false;
  Query q(db_, kSendDedupe);
  q.bind(1, user).bind(2, client_id);
  if (!q.step()) return false;
  auto it = by_id_.find(q.i64(0));
  out.already_applied = true;
  out.channel = it != by_id_.end() ? it->second->info.channel : std::string();
  out.seq = q.u64(1);
  out.version = q.u64(2);  // what the send answered: a reply's is its parent bump
  out.created_at = q.i64(3);
  return true;
}

void Writer::remember(OpKind kind, const std::string& user, const std::string& client_id,
                      const WriteResult& r) {
  if (client_id.empty() || user.empty()) return;
  Query q(db_, kOpRemember);
  q.bind(1, user).bind(2, client_id).bind(3, static_cast<int>(kind)).bind(4, r.channel);
  q.bind(5, r.seq).bind(6, r.version);
  q.run();
}

bool Writer::load_message(const Channel& ch, Seq seq, proto::Message& out) {
  if (seq == 0 || seq > ch.info.last_seq) return false;
  Query q(db_, kLoadMessage);
  q.bind(1, ch.id).bind(2, seq);
  if (!q.step()) return false;
  read_message(q, 0, ch.info.channel, out);
  return true;
}

ChannelRecord Writer::channel_record(const Channel& ch) {
  ChannelRecord rec;
  rec.info = ch.info;
  rec.members.reserve(ch.info.member_count);
  Query q(db_, kActiveMembers);
  q.bind(1, ch.id);
  while (q.step())
    rec.members.push_back(MemberRecord{q.str(0), static_cast<Role>(q.u32(1))});
  return rec;
}

void Writer::advance_cursor(const std::string& user, std::int64_t channel, Seq read,
                            Seq delivered) {
  Query q(db_, kCursorAdvance);
  q.bind(1, user).bind(2, channel).bind(3, read).bind(4, delivered);
  q.run();
}

std::string Writer::generate_id() {
  char buf[24];
  for (;;) {
    std::snprintf(buf, sizeof buf, "g:%016llx", static_cast<unsigned long long>(rng_()));
    if (channels_.find(buf) == channels_.end()) return buf;
  }
}

// ---------------------------------------------------------------- users, receipts

WriteResult Writer::profile(SetProfileOp& op) {
  if (op.metadata && too_big(*op.metadata)) return failure(Errc::body_too_large, "metadata");
  proto::UserProfile p;
  p.user = op.user;
  {
    Query q(db_, kLoadProfile);
    q.bind(1, op.user);
    if (q.step()) {
      p.display_name = q.str(0);
      p.avatar_url = q.str(1);
      p.metadata.json = q.str(2);
    }
  }
  if (op.display_name) p.display_name = *op.display_name;
  if (op.avatar_url) p.avatar_url = *op.avatar_url;
  if (op.metadata) p.metadata = *op.metadata;
  p.updated_at = op.now;
  {
    Query q(db_, kUpsertProfile);
    q.bind(1, p.user).bind(2, p.display_name).bind(3, p.avatar_url).bind(4, p.metadata.json);
    q.bind(5, p.updated_at);
    q.run();
  }
  WriteResult r;
  r.profile = std::move(p);
  return r;
}

WriteResult Writer::cursors(CursorsOp& op) {
  for (const auto& u : op.updates) {
    const Channel* ch = find(u.channel);
    if (ch == nullptr) continue;  // channel gone: nothing to remember
    const Seq read = std::min(u.read_seq, ch->info.last_seq);
    const Seq delivered = std::min(u.delivered_seq, ch->info.last_seq);
    if (read == 0 && delivered == 0) continue;
    advance_cursor(u.user, ch->id, read, delivered);
  }
  return {};
}

WriteResult Writer::last_seen(LastSeenOp& op) {
  Query q(db_, kLastSeen);
  q.bind(1, op.user).bind(2, op.last_seen);
  q.run();
  return {};
}

}  // namespace chatsdk::server::store
