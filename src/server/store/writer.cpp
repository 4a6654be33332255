#include "server/store/writer.hpp"

#include <algorithm>
#include <cstdio>

#include "server/store/rows.hpp"

namespace chatsdk::server::store {
namespace {

constexpr std::size_t kMaxEmojiPerMessage = 32;

constexpr char kLoadChannels[] =
    "SELECT id, cid, kind, name, public, created_by, created_at, metadata, last_seq, version, "
    "member_count, info_version FROM channels";
constexpr char kRole[] = "SELECT role FROM members WHERE channel = ?1 AND user = ?2 AND removed = 0";
constexpr char kActiveMembers[] =
    "SELECT user, role FROM members WHERE channel = ?1 AND removed = 0 ORDER BY user";
constexpr char kSendDedupe[] =
    "SELECT channel, seq, created_version + (reply_to <> 0), created_at FROM messages "
    "WHERE sender = ?1 AND client_id = ?2";
constexpr char kInsertMessage[] =
    "INSERT INTO messages (channel, seq, version, created_version, sender, client_id, body, "
    "created_at, reply_to, metadata, mentions) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
constexpr char kInsertMention[] =
    "INSERT OR IGNORE INTO mentions (user, channel, seq) VALUES (?1, ?2, ?3)";
constexpr char kBumpReplyCount[] =
    "UPDATE messages SET reply_count = reply_count + 1, version = ?3 "
    "WHERE channel = ?1 AND seq = ?2 RETURNING " CHATSDK_MSG_COLS;
constexpr char kLoadMessage[] =
    "SELECT " CHATSDK_MSG_COLS " FROM messages WHERE channel = ?1 AND seq = ?2";
constexpr char kEditMessage[] =
    "UPDATE messages SET body = ?3, metadata = ?4, edited_at = ?5, version = ?6 "
    "WHERE channel = ?1 AND seq = ?2";
constexpr char kDeleteMessage[] =
    "UPDATE messages SET body = '', metadata = '', reactions = '', mentions = '', deleted = 1, "
    "version = ?3 WHERE channel = ?1 AND seq = ?2";
constexpr char kDeleteReactions[] = "DELETE FROM reactions WHERE channel = ?1 AND seq = ?2";
constexpr char kDeleteMentions[] = "DELETE FROM mentions WHERE user = ?3 AND channel = ?1 AND seq = ?2";
constexpr char kHasReaction[] =
    "SELECT 1 FROM reactions WHERE channel = ?1 AND seq = ?2 AND emoji = ?3 AND user = ?4";
constexpr char kInsertReaction[] =
    "INSERT INTO reactions (channel, seq, emoji, user) VALUES (?1, ?2, ?3, ?4)";
constexpr char kDeleteReaction[] =
    "DELETE FROM reactions WHERE channel = ?1 AND seq = ?2 AND emoji = ?3 AND user = ?4";
constexpr char kSetReactions[] =
    "UPDATE messages SET reactions = ?3, version = ?4 WHERE channel = ?1 AND seq = ?2";
constexpr char kCursorAdvance[] =
    "INSERT INTO cursors (user, channel, read_seq, delivered_seq) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (user, channel) DO UPDATE SET read_seq = max(read_seq, excluded.read_seq), "
    "delivered_seq = max(delivered_seq, excluded.delivered_seq)";
constexpr char kOpDedupe[] =
    "SELECT kind, channel, seq, version FROM op_dedupe WHERE user = ?1 AND client_id = ?2";
constexpr char kOpRemember[] =
    "INSERT OR REPLACE INTO op_dedupe (user, client_id, kind, channel, seq, version) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr char kInsertChannel[] =
    "INSERT INTO channels (cid, kind, name, public, created_by, created_at, metadata, last_seq, "
    "version, member_count, info_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?8)";
constexpr char kUpdateChannelInfo[] =
    "UPDATE channels SET name = ?2, public = ?3, metadata = ?4, info_version = ?5 WHERE id = ?1";
constexpr char kFlushCounters[] =
    "UPDATE channels SET last_seq = ?2, version = ?3, member_count = ?4 WHERE id = ?1";
constexpr char kUpsertMember[] =
    "INSERT INTO members (channel, user, role, version, removed, joined_at) "
    "VALUES (?1, ?2, ?3, ?4, 0, ?5) ON CONFLICT (channel, user) DO UPDATE SET role = excluded.role, "
    "version = excluded.version, removed = 0, joined_at = excluded.joined_at";
constexpr char kRemoveMember[] =
    "UPDATE members SET removed = 1, version = ?3 WHERE channel = ?1 AND user = ?2";
constexpr char kSetMemberRole[] =
    "UPDATE members SET role = ?3, version = ?4 WHERE channel = ?1 AND user = ?2";
constexpr char kLoadProfile[] =
    "SELECT display_name, avatar_url, metadata FROM users WHERE id = ?1";
constexpr char kUpsertProfile[] =
    "INSERT INTO users (id, display_name, avatar_url, metadata, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, "
    "avatar_url = excluded.avatar_url, metadata = excluded.metadata, updated_at = excluded.updated_at";
constexpr char kLastSeen[] =
    "INSERT INTO users (id, last_seen) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET "
    "last_seen = max(last_seen, excluded.last_seen)";

WriteResult failure(Errc code, std::string message) {
  WriteResult r;
  r.error = Error{code, std::move(message)};
  return r;
}

bool can_moderate(Role r) { return r == Role::moderator || r == Role::owner; }

}  // namespace

Writer::Writer(const Config& config, Db& db)
    : config_(config), db_(db), rng_(std::random_device{}()) {}

Result<void> Writer::load() {
  channels_.clear();
  by_id_.clear();
  Query q(db_, kLoadChannels);
  while (q.step()) {
    auto ch = std::make_unique<Channel>();
    ch->id = q.i64(0);
    auto& i = ch->info;
    i.channel = q.str(1);
    i.kind = static_cast<ChannelKind>(q.u32(2));
    i.name = q.str(3);
    i.is_public = q.flag(4);
    i.created_by = q.str(5);
    i.created_at = q.i64(6);
    i.metadata.json = q.str(7);
    i.last_seq = q.u64(8);
    i.version = q.u64(9);
    i.member_count = q.u32(10);
    ch->info_version = q.u64(11);
    by_id_[ch->id] = ch.get();
    channels_.emplace(i.channel, std::move(ch));
  }
  if (db_.failed()) return Error{Errc::io_error, db_.error()};
  return {};
}

void Writer::begin() {
  ++epoch_;
  undo_.clear();
  dirty_.clear();
}

void Writer::touch(Channel& ch, bool info_change) {
  if (ch.epoch != epoch_) {
    ch.epoch = epoch_;
    undo_.push_back(Undo{&ch, ch.info.last_seq, ch.info.version, ch.info.member_count,
                         ch.info_version, std::nullopt, false});
    dirty_.push_back(&ch);
  }
  if (info_change) {
    // Keep the oldest saved info: the first info change of the batch saves it.
    for (auto& u : undo_) {
      if (u.ch == &ch && !u.info && !u.created) u.info = ch.info;
    }
  }
}

void Writer::flush() {
  for (Channel* ch : dirty_) {
    Query q(db_, kFlushCounters);
    q.bind(1, ch->id).bind(2, ch->info.last_seq).bind(3, ch->info.version).bind(4, ch->info.member_count);
    q.run();
  }
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
  }
  undo_.clear();
  dirty_.clear();
}

void Writer::committed() {
  undo_.clear();
  dirty_.clear();
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
  Query q(db_, kSendDedupe);
  q.bind(1, user).bind(2, client_id);
  if (q.step()) {
    auto it = by_id_.find(q.i64(0));
    out.already_applied = true;
    out.channel = it != by_id_.end() ? it->second->info.channel : std::string();
    out.seq = q.u64(1);
    out.version = q.u64(2);
    out.created_at = q.i64(3);
    return true;
  }
  return false;
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
  while (q.step()) rec.members.push_back(MemberRecord{q.str(0), static_cast<Role>(q.u32(1))});
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

// ---------------------------------------------------------------- messages

WriteResult Writer::send(SendOp& op) {
  if (!op.client_id.empty()) {
    Query q(db_, kSendDedupe);
    q.bind(1, op.user).bind(2, op.client_id);
    if (q.step()) {
      WriteResult r;
      auto it = by_id_.find(q.i64(0));
      r.already_applied = true;
      r.channel = it != by_id_.end() ? it->second->info.channel : op.channel;
      r.seq = q.u64(1);
      r.version = q.u64(2);
      r.created_at = q.i64(3);
      return r;
    }
  }
  Channel* ch = find(op.channel);
  if (ch == nullptr) return failure(Errc::not_found, "no such channel");
  if (op.body.size() > config_.max_body_bytes) return failure(Errc::body_too_large, "body");
  if (too_big(op.metadata)) return failure(Errc::body_too_large, "metadata");
  if (!role_of(*ch, op.user)) return failure(Errc::not_member, "not a member");
  if (op.reply_to > ch->info.last_seq) return failure(Errc::not_found, "no such parent message");
  if (db_.failed()) return {};

  touch(*ch);
  const Seq seq = ++ch->info.last_seq;
  const Version version = ++ch->info.version;
  const Version last_version = op.reply_to != 0 ? version + 1 : version;

  std::sort(op.mentions.begin(), op.mentions.end());
  op.mentions.erase(std::unique(op.mentions.begin(), op.mentions.end()), op.mentions.end());
  const std::string mentions = encode_mentions(op.mentions);
  {
    Query q(db_, kInsertMessage);
    q.bind(1, ch->id).bind(2, seq).bind(3, version).bind(4, version).bind(5, op.user);
    q.bind_or_null(6, op.client_id).bind(7, op.body).bind(8, op.now).bind(9, op.reply_to);
    q.bind(10, op.metadata.json).bind(11, mentions);
    q.run();
  }
  for (const auto& u : op.mentions) {
    Query q(db_, kInsertMention);
    q.bind(1, u).bind(2, ch->id).bind(3, seq);
    q.run();
  }
  advance_cursor(op.user, ch->id, seq, seq);

  WriteResult r;
  r.channel = ch->info.channel;
  r.seq = seq;
  r.version = last_version;
  r.created_at = op.now;
  // sender, client_id, body, mentions and metadata are moved in by finish()
  // once the transaction committed: the op must stay intact for a retry.
  proto::Message& m = r.messages.emplace_back();
  m.channel = ch->info.channel;
  m.seq = seq;
  m.version = version;
  m.created_at = op.now;
  m.reply_to = op.reply_to;

  if (op.reply_to != 0) {
    const Version parent_version = ++ch->info.version;
    Query q(db_, kBumpReplyCount);
    q.bind(1, ch->id).bind(2, op.reply_to).bind(3, parent_version);
    if (q.step()) read_message(q, 0, ch->info.channel, r.messages.emplace_back());
  }
  return r;
}

void Writer::finish(WriteOp& op, WriteResult& r) {
  auto* send = std::get_if<SendOp>(&op);
  if (send == nullptr || !r.ok() || r.already_applied || r.messages.empty()) return;
  proto::Message& m = r.messages.front();
  m.sender = std::move(send->user);
  m.client_id = std::move(send->client_id);
  m.body = std::move(send->body);
  m.mentions = std::move(send->mentions);
  m.metadata = std::move(send->metadata);
}

WriteResult Writer::edit(EditOp& op) {
  WriteResult r;
  if (replayed(op.user, op.client_id, r)) return r;
  Channel* ch = find(op.channel);
  if (ch == nullptr) return failure(Errc::not_found, "no such channel");
  if (!role_of(*ch, op.user)) return failure(Errc::not_member, "not a member");
  proto::Message m;
  if (!load_message(*ch, op.seq, m)) return failure(Errc::not_found, "no such message");
  if (m.sender != op.user) return failure(Errc::permission_denied, "only the sender may edit");
  if (m.deleted) return failure(Errc::message_deleted, "message is deleted");
  if (op.body.size() > config_.max_body_bytes) return failure(Errc::body_too_large, "body");
  if (too_big(op.metadata)) return failure(Errc::body_too_large, "metadata");
  if (db_.failed()) return r;

  touch(*ch);
  const Version version = ++ch->info.version;
  // Empty metadata in an edit keeps the message's metadata ("{}" clears it).
  if (!op.metadata.empty()) m.metadata = op.metadata;
  m.body = op.body;
  m.edited_at = op.now;
  m.version = version;
  {
    Query q(db_, kEditMessage);
    q.bind(1, ch->id).bind(2, op.seq).bind(3, m.body).bind(4, m.metadata.json);
    q.bind(5, op.now).bind(6, version);
    q.run();
  }
  r.channel = ch->info.channel;
  r.seq = op.seq;
  r.version = version;
  r.messages.push_back(std::move(m));
  remember(OpKind::edit, op.user, op.client_id, r);
  return r;
}

WriteResult Writer::del(DeleteOp& op) {
  WriteResult r;
  if (replayed(op.user, op.client_id, r)) return r;
  Channel* ch = find(op.channel);
  if (ch == nullptr) return failure(Errc::not_found, "no such channel");
  std::optional<Role> role;
  if (!op.as_admin) {
    role = role_of(*ch, op.user);
    if (!role) return failure(Errc::not_member, "not a member");
  }
  proto::Message m;
  if (!load_message(*ch, op.seq, m)) return failure(Errc::not_found, "no such message");
  r.channel = ch->info.channel;
  r.seq = op.seq;
  if (m.deleted) {  // semantic no-op: ok, nothing changes
    r.version = m.version;
    remember(OpKind::del, op.user, op.client_id, r);
    return r;
  }
  if (!op.as_admin && m.sender != op.user && !can_moderate(*role)) {
    return failure(Errc::permission_denied, "only the sender or a moderator may delete");
  }
  if (db_.failed()) return r;

  touch(*ch);
  const Version version = ++ch->info.version;
  {
    Query q(db_, kDeleteMessage);
    q.bind(1, ch->id).bind(2, op.seq).bind(3, version);
    q.run();
  }
  if (!m.reactions.empty()) {
    Query q(db_, kDeleteReactions);
    q.bind(1, ch->id).bind(2, op.seq);
    q.run();
  }
  for (const auto& u : m.mentions) {
    Query q(db_, kDeleteMentions);
    q.bind(1, ch->id).bind(2, op.seq).bind(3, u);
    q.run();
  }
  m.body.clear();
  m.metadata = {};
  m.reactions.clear();
  m.mentions.clear();
  m.deleted = true;
  m.version = version;
  r.version = version;
  r.messages.push_back(std::move(m));
  remember(OpKind::del, op.user, op.client_id, r);
  return r;
}

WriteResult Writer::react(ReactOp& op) {
  WriteResult r;
  if (replayed(op.user, op.client_id, r)) return r;
  Channel* ch = find(op.channel);
  if (ch == nullptr) return failure(Errc::not_found, "no such channel");
  if (!role_of(*ch, op.user)) return failure(Errc::not_member, "not a member");
  proto::Message m;
  if (!load_message(*ch, op.seq, m)) return failure(Errc::not_found, "no such message");
  if (m.deleted) return failure(Errc::message_deleted, "message is deleted");
  r.channel = ch->info.channel;
  r.seq = op.seq;

  bool exists = false;
  {
    Query q(db_, kHasReaction);
    q.bind(1, ch->id).bind(2, op.seq).bind(3, op.emoji).bind(4, op.user);
    exists = q.step();
  }
  const bool adding = op.action == proto::ReactAction::add;
  if (exists == adding || db_.failed()) {  // semantic no-op
    r.version = m.version;
    remember(OpKind::react, op.user, op.client_id, r);
    return r;
  }
  auto it = std::find_if(m.reactions.begin(), m.reactions.end(),
                         [&](const proto::Reaction& x) { return x.emoji == op.emoji; });
  if (adding) {
    if (it == m.reactions.end()) {
      if (m.reactions.size() >= kMaxEmojiPerMessage) {
        return failure(Errc::limit_exceeded, "at most 32 distinct emoji per message");
      }
      m.reactions.push_back(proto::Reaction{op.emoji, 1, false});
    } else {
      ++it->count;
    }
  } else if (it != m.reactions.end()) {
    if (--it->count == 0) m.reactions.erase(it);
  }

  touch(*ch);
  const Version version = ++ch->info.version;
  {
    Query q(db_, adding ? kInsertReaction : kDeleteReaction);
    q.bind(1, ch->id).bind(2, op.seq).bind(3, op.emoji).bind(4, op.user);
    q.run();
  }
  {
    const std::string summary = encode_reactions(m.reactions);
    Query q(db_, kSetReactions);
    q.bind(1, ch->id).bind(2, op.seq).bind(3, summary).bind(4, version);
    q.run();
  }
  m.version = version;
  r.version = version;
  r.messages.push_back(std::move(m));
  remember(OpKind::react, op.user, op.client_id, r);
  return r;
}

// ---------------------------------------------------------------- channels

WriteResult Writer::create(CreateChannelOp& op) {
  WriteResult r;
  if (replayed(op.user, op.client_id, r)) return r;
  if (too_big(op.metadata)) return failure(Errc::body_too_large, "metadata");

  // Final member list: creator first (owner of group/large), then the listed
  // members, each user once.
  std::vector<MemberRecord> members;
  auto add_member = [&](const std::string& user, Role role) {
    if (user.empty()) return;
    for (const auto& m : members) {
      if (m.user == user) return;
    }
    members.push_back(MemberRecord{user, role});
  };
  if (op.kind == ChannelKind::direct) {
    add_member(op.user, Role::member);
    for (const auto& m : op.members) add_member(m.user, Role::member);
    if (members.size() != 2) {
      return failure(Errc::invalid_argument, "a direct channel has exactly two members");
    }
    const auto& [a, b] = std::minmax(members[0].user, members[1].user);
    op.channel = "dm:" + a + ":" + b;
    op.is_public = false;
    if (Channel* existing = find(op.channel)) {
      r.channel = existing->info.channel;
      r.version = existing->info.version;
      r.channel_state = channel_record(*existing);
      remember(OpKind::create, op.user, op.client_id, r);
      return r;
    }
  } else {
    add_member(op.user, Role::owner);
    for (const auto& m : op.members) add_member(m.user, m.role);
    if (op.channel.empty()) {
      op.channel = generate_id();
    } else if (find(op.channel) != nullptr) {
      return failure(Errc::already_exists, "channel id taken");
    }
  }
  if (members.size() > config_.max_members) {
    return failure(Errc::limit_exceeded, "too many members");
  }
  if (db_.failed()) return r;

  // Creation is the channel's first change: version 1, shared by every
  // initial membership.
  const Version version = 1;
  {
    Query q(db_, kInsertChannel);
    q.bind(1, op.channel).bind(2, static_cast<int>(op.kind)).bind(3, op.name).bind(4, op.is_public);
    q.bind(5, op.user).bind(6, op.now).bind(7, op.metadata.json).bind(8, version);
    q.bind(9, static_cast<std::uint32_t>(members.size()));
    q.run();
  }
  if (db_.failed()) return r;
  auto owned = std::make_unique<Channel>();
  Channel* ch = owned.get();
  ch->id = sqlite3_last_insert_rowid(db_.handle());
  ch->info.channel = op.channel;
  ch->info.kind = op.kind;
  ch->info.name = op.name;
  ch->info.is_public = op.is_public;
  ch->info.created_by = op.user;
  ch->info.created_at = op.now;
  ch->info.metadata = op.metadata;
  ch->info.version = version;
  ch->info.member_count = static_cast<std::uint32_t>(members.size());
  ch->info_version = version;
  ch->epoch = epoch_;
  channels_.emplace(op.channel, std::move(owned));
  by_id_[ch->id] = ch;
  undo_.push_back(Undo{ch, 0, 0, 0, 0, std::nullopt, true});
  dirty_.push_back(ch);  // later ops of the batch may bump its counters

  for (const auto& m : members) {
    Query q(db_, kUpsertMember);
    q.bind(1, ch->id).bind(2, m.user).bind(3, static_cast<int>(m.role)).bind(4, version);
    q.bind(5, op.now);
    q.run();
    r.member_changes.push_back(MemberChangeRecord{m.user, proto::MemberChange::added, m.role, version});
  }
  r.channel = ch->info.channel;
  r.version = version;
  r.channel_state = ChannelRecord{ch->info, std::move(members)};
  std::sort(r.channel_state->members.begin(), r.channel_state->members.end(),
            [](const MemberRecord& a, const MemberRecord& b) { return a.user < b.user; });
  remember(OpKind::create, op.user, op.client_id, r);
  return r;
}

WriteResult Writer::update(UpdateChannelOp& op) {
  WriteResult r;
  if (replayed(op.user, op.client_id, r)) return r;
  Channel* ch = find(op.channel);
  if (ch == nullptr) return failure(Errc::not_found, "no such channel");
  if (!op.as_admin) {
    const auto role = role_of(*ch, op.user);
    if (!role) return failure(Errc::not_member, "not a member");
    if (!can_moderate(*role)) return failure(Errc::permission_denied, "owner or moderator only");
  }
  if (op.metadata && too_big(*op.metadata)) return failure(Errc::body_too_large, "metadata");
  if (op.is_public && *op.is_public && ch->info.kind == ChannelKind::direct) {
    return failure(Errc::permission_denied, "a direct channel cannot be public");
  }
  r.channel = ch->info.channel;
  const bool changes = (op.name && *op.name != ch->info.name) ||
                       (op.is_public && *op.is_public != ch->info.is_public) ||
                       (op.metadata && *op.metadata != ch->info.metadata);
  if (changes && !db_.failed()) {
    touch(*ch, true);
    const Version version = ++ch->info.version;
    if (op.name) ch->info.name = *op.name;
    if (op.is_public) ch->info.is_public = *op.is_public;
    if (op.metadata) ch->info.metadata = *op.metadata;
    ch->info_version = version;
    Query q(db_, kUpdateChannelInfo);
    q.bind(1, ch->id).bind(2, ch->info.name).bind(3, ch->info.is_public);
    q.bind(4, ch->info.metadata.json).bind(5, version);
    q.run();
  }
  r.version = ch->info.version;
  r.channel_state = channel_record(*ch);
  remember(OpKind::update, op.user, op.client_id, r);
  return r;
}

WriteResult Writer::add(AddMembersOp& op) {
  WriteResult r;
  if (replayed(op.user, op.client_id, r)) return r;
  Channel* ch = find(op.channel);
  if (ch == nullptr) return failure(Errc::not_found, "no such channel");
  std::vector<std::string> users;
  Role role = op.role;
  if (op.join) {
    // Self-join: the channel must be public; an existing member gets the
    // same answer without a change.
    if (!ch->info.is_public && !op.as_admin) return failure(Errc::permission_denied, "not public");
    users.push_back(op.user);
    role = Role::member;
  } else {
    if (ch->info.kind == ChannelKind::direct) {
      return failure(Errc::permission_denied, "direct channels have fixed members");
    }
    if (!op.as_admin) {
      const auto actor = role_of(*ch, op.user);
      if (!actor) return failure(Errc::not_member, "not a member");
      if (!can_moderate(*actor)) return failure(Errc::permission_denied, "owner or moderator only");
      if (role == Role::owner && *actor != Role::owner) {
        return failure(Errc::permission_denied, "only an owner may add owners");
      }
    }
    users = op.users;
    std::sort(users.begin(), users.end());
    users.erase(std::unique(users.begin(), users.end()), users.end());
  }
  // Already-active members are a no-op; only the rest count and change.
  std::vector<std::string> fresh;
  for (auto& u : users) {
    if (!u.empty() && !role_of(*ch, u)) fresh.push_back(std::move(u));
  }
  if (ch->info.member_count + fresh.size() > config_.max_members) {
    return failure(Errc::limit_exceeded, "channel is full");
  }
  r.channel = ch->info.channel;
  if (!fresh.empty() && !db_.failed()) {
    touch(*ch);
    for (const auto& u : fresh) {
      const Version version = ++ch->info.version;
      ++ch->info.member_count;
      Query q(db_, kUpsertMember);
      q.bind(1, ch->id).bind(2, u).bind(3, static_cast<int>(role)).bind(4, version).bind(5, op.now);
      q.run();
      // A new member starts with everything before it read: unread counts
      // what arrives after joining, not the channel's whole history.
      advance_cursor(u, ch->id, ch->info.last_seq, ch->info.last_seq);
      r.member_changes.push_back(MemberChangeRecord{u, proto::MemberChange::added, role, version});
    }
  }
  r.version = ch->info.version;
  r.channel_state = channel_record(*ch);
  remember(OpKind::add, op.user, op.client_id, r);
  return r;
}

WriteResult Writer::remove(RemoveMembersOp& op) {
  WriteResult r;
  if (replayed(op.user, op.client_id, r)) return r;
  Channel* ch = find(op.channel);
  if (ch == nullptr) return failure(Errc::not_found, "no such channel");
  if (ch->info.kind == ChannelKind::direct) {
    return failure(Errc::permission_denied, "direct channels have fixed members");
  }
  std::optional<Role> actor;
  if (!op.as_admin) {
    actor = role_of(*ch, op.user);
    if (!actor) return failure(Errc::not_member, "not a member");
  }
  std::vector<std::string> users = op.users;
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  std::vector<std::pair<std::string, Role>> leaving;
  for (auto& u : users) {
    const auto target = role_of(*ch, u);
    if (!target) continue;  // not a member: nothing to do
    if (!op.as_admin && u != op.user) {
      if (!can_moderate(*actor)) return failure(Errc::permission_denied, "owner or moderator only");
      if (*target == Role::owner && *actor != Role::owner) {
        return failure(Errc::permission_denied, "a moderator cannot remove an owner");
      }
    }
    leaving.emplace_back(std::move(u), *target);
  }
  r.channel = ch->info.channel;
  if (!leaving.empty() && !db_.failed()) {
    touch(*ch);
    for (const auto& [u, role] : leaving) {
      const Version version = ++ch->info.version;
      --ch->info.member_count;
      Query q(db_, kRemoveMember);
      q.bind(1, ch->id).bind(2, u).bind(3, version);
      q.run();
      r.member_changes.push_back(MemberChangeRecord{u, proto::MemberChange::removed, role, version});
    }
  }
  r.version = ch->info.version;
  r.channel_state = channel_record(*ch);
  remember(OpKind::remove, op.user, op.client_id, r);
  return r;
}

WriteResult Writer::set_role(SetRoleOp& op) {
  WriteResult r;
  if (replayed(op.user, op.client_id, r)) return r;
  Channel* ch = find(op.channel);
  if (ch == nullptr) return failure(Errc::not_found, "no such channel");
  if (!op.as_admin) {
    const auto actor = role_of(*ch, op.user);
    if (!actor) return failure(Errc::not_member, "not a member");
    if (*actor != Role::owner) return failure(Errc::permission_denied, "owner only");
  }
  const auto target = role_of(*ch, op.target);
  if (!target) return failure(Errc::not_member, "target is not a member");
  r.channel = ch->info.channel;
  if (*target != op.role && !db_.failed()) {
    touch(*ch);
    const Version version = ++ch->info.version;
    Query q(db_, kSetMemberRole);
    q.bind(1, ch->id).bind(2, op.target).bind(3, static_cast<int>(op.role)).bind(4, version);
    q.run();
    r.member_changes.push_back(
        MemberChangeRecord{op.target, proto::MemberChange::role, op.role, version});
  }
  r.version = ch->info.version;
  r.channel_state = channel_record(*ch);
  remember(OpKind::role, op.user, op.client_id, r);
  return r;
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
