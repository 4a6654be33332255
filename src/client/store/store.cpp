#include "client/store/store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>

namespace chatsdk::client {
namespace {

// Id lists: ids never contain spaces (protocol id charset).
std::string join_ids(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

std::vector<std::string> split_ids(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = s.find(' ', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// Reactions: "count mine emoji" per line (emoji hold no whitespace).
std::string encode_reactions(const std::vector<Reaction>& rs) {
  std::string out;
  for (const auto& r : rs) {
    out += std::to_string(r.count);
    out += r.mine ? " 1 " : " 0 ";
    out += r.emoji;
    out += '\n';
  }
  return out;
}

std::vector<Reaction> decode_reactions(const std::string& s) {
  std::vector<Reaction> out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t nl = s.find('\n', i);
    if (nl == std::string::npos) nl = s.size();
    std::string line = s.substr(i, nl - i);
    std::size_t a = line.find(' ');
    std::size_t b = a == std::string::npos ? a : line.find(' ', a + 1);
    if (b != std::string::npos) {
      Reaction r;
      std::from_chars(line.data(), line.data() + a, r.count);  // never throws
      r.mine = line[a + 1] == '1';
      r.emoji = line.substr(b + 1);
      out.push_back(std::move(r));
    }
    i = nl + 1;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& path, int max_schema) {
  auto s = std::unique_ptr<Store>(new Store());
  if (auto r = s->db_.open(path); !r) return r.error();
  // WAL: readers never block the writer. synchronous=FULL: an op is on disk
  // when the API call that created it returns, even across power loss.
  if (auto r = s->db_.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                           "PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;");
      !r)
    return r.error();
  if (auto r = s->migrate(max_schema); !r) return r.error();
  return s;
}

// ---- batches ------------------------------------------------------------------

Result<void> Store::begin_batch() {
  if (auto r = db_.run("PRAGMA synchronous=NORMAL"); !r) return r;
  auto r = db_.begin();
  if (!r) (void)db_.run("PRAGMA synchronous=FULL");
  return r;
}

Result<void> Store::commit_batch() {
  auto r = db_.commit();
  (void)db_.run("PRAGMA synchronous=FULL");  // every other write: on disk when it returns
  return r;
}

void Store::rollback_batch() noexcept {
  db_.rollback();
  (void)db_.run("PRAGMA synchronous=FULL");
}

// ---- meta ----------------------------------------------------------------------

std::string Store::meta(const char* key) {
  auto s = db_.prepare("SELECT value FROM meta WHERE key = ?1");
  s.bind(1, std::string_view(key));
  return s.step() ? s.str(0) : std::string();
}

void Store::set_meta(const char* key, const std::string& value) {
  db_.prepare(
         "INSERT INTO meta(key, value) VALUES(?1, ?2) "
         "ON CONFLICT(key) DO UPDATE SET value = excluded.value")
      .bind(1, std::string_view(key))
      .bind(2, value)
      .exec();
}

// ---- channels ------------------------------------------------------------------

static ChannelRow read_channel_row(const Stmt& s) {
  ChannelRow r;
  Channel& c = r.channel;
  c.id = s.str(0);
  c.kind = static_cast<ChannelKind>(s.i64(1));
  c.name = s.str(2);
  c.is_public = s.b(3);
  c.created_by = s.str(4);
  c.created_at = s.i64(5);
  c.member_count = s.u32(6);
  c.role = static_cast<Role>(s.i64(7));
  c.metadata = s.str(8);
  c.last_seq = s.u64(9);
  c.read_seq = s.u64(10);
  c.delivered_seq = s.u64(11);
  c.unread = s.u32(12);
  c.mentions = s.u32(13);
  c.last_activity = s.i64(14);
  r.cursor = s.u64(15);
  return r;
}

#define CHANNEL_COLS                                                                  \
  "id, kind, name, is_public, created_by, created_at, member_count, role, metadata, " \
  "last_seq, read_seq, delivered_seq, unread, mentions, last_activity, cursor"

std::vector<ChannelRow> Store::channels() {
  // One statement for the whole list (cold start): each channel with its
  // newest message, found through the (channel, seq) primary key.
  std::vector<ChannelRow> out;
  auto s = db_.prepare(
      "SELECT c.id, c.kind, c.name, c.is_public, c.created_by, c.created_at, c.member_count, "
      "c.role, c.metadata, c.last_seq, c.read_seq, c.delivered_seq, c.unread, c.mentions, "
      "c.last_activity, c.cursor, "
      "m.channel, m.seq, m.version, m.sender, m.client_id, m.body, m.created_at, m.edited_at, "
      "m.deleted, m.reply_to, m.reply_count, m.reactions, m.mentions, m.metadata "
      "FROM channels c LEFT JOIN messages m ON m.channel = c.id AND m.seq = "
      "(SELECT MAX(x.seq) FROM messages x WHERE x.channel = c.id)");
  while (s.step()) {
    out.push_back(read_channel_row(s));
    if (!s.is_null(16)) out.back().channel.last_message = read_message(s, 16);
  }
  return out;
}

std::optional<ChannelRow> Store::channel(const std::string& id) {
  std::optional<ChannelRow> out;
  {
    auto s = db_.prepare("SELECT " CHANNEL_COLS " FROM channels WHERE id = ?1");
    s.bind(1, id);
    if (s.step()) out = read_channel_row(s);
  }
  if (out) {
    auto s = db_.prepare(
        "SELECT channel, seq, version, sender, client_id, body, created_at, edited_at, deleted, "
        "reply_to, reply_count, reactions, mentions, metadata FROM messages WHERE channel = ?1 "
        "ORDER BY seq DESC LIMIT 1");
    s.bind(1, id);
    if (s.step()) out->channel.last_message = read_message(s);
  }
  return out;
}

std::optional<ChannelRow> Store::channel_row(const std::string& id) {
  auto s = db_.prepare("SELECT " CHANNEL_COLS " FROM channels WHERE id = ?1");
  s.bind(1, id);
  if (s.step()) return read_channel_row(s);
  return std::nullopt;
}

void Store::upsert_channel(const ChannelRow& r) {
  const Channel& c = r.channel;
  db_.prepare("INSERT OR REPLACE INTO channels(" CHANNEL_COLS
              ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)")
      .bind(1, c.id)
      .bind(2, static_cast<int>(c.kind))
      .bind(3, c.name)
      .bind(4, c.is_public)
      .bind(5, c.created_by)
      .bind(6, c.created_at)
      .bind(7, c.member_count)
      .bind(8, static_cast<int>(c.role))
      .bind(9, c.metadata)
      .bind(10, c.last_seq)
      .bind(11, c.read_seq)
      .bind(12, c.delivered_seq)
      .bind(13, c.unread)
      .bind(14, c.mentions)
      .bind(15, c.last_activity)
      .bind(16, r.cursor)
      .exec();
}

void Store::update_channel_counters(const ChannelRow& r) {
  const Channel& c = r.channel;
  db_.prepare(
         "UPDATE channels SET last_seq = ?2, read_seq = ?3, delivered_seq = ?4, unread = ?5, "
         "mentions = ?6, last_activity = ?7, cursor = ?8 WHERE id = ?1")
      .bind(1, c.id)
      .bind(2, c.last_seq)
      .bind(3, c.read_seq)
      .bind(4, c.delivered_seq)
      .bind(5, c.unread)
      .bind(6, c.mentions)
      .bind(7, c.last_activity)
      .bind(8, r.cursor)
      .exec();
}

void Store::delete_channel(const std::string& id) {
  db_.prepare("DELETE FROM channels WHERE id = ?1").bind(1, id).exec();
  db_.prepare("DELETE FROM messages WHERE channel = ?1").bind(1, id).exec();
  db_.prepare("DELETE FROM gaps WHERE channel = ?1").bind(1, id).exec();
  db_.prepare("DELETE FROM members WHERE channel = ?1").bind(1, id).exec();
}

// ---- messages ------------------------------------------------------------------

Message Store::read_message(const Stmt& s, int c) const {
  Message m;
  m.channel = s.str(c + 0);
  m.seq = s.u64(c + 1);
  m.version = s.u64(c + 2);
  m.sender = s.str(c + 3);
  m.client_id = s.str(c + 4);
  m.body = s.str(c + 5);
  m.created_at = s.i64(c + 6);
  m.edited_at = s.i64(c + 7);
  m.deleted = s.b(c + 8);
  m.reply_to = s.u64(c + 9);
  m.reply_count = s.u32(c + 10);
  m.reactions = decode_reactions(s.str(c + 11));
  m.mentions = split_ids(s.str(c + 12));
  m.metadata = s.str(c + 13);
  return m;
}

bool Store::upsert_message(const Message& m, bool mentions_me) {
  auto s = db_.prepare(
      "INSERT INTO messages(channel, seq, version, sender, client_id, body, created_at, "
      "edited_at, deleted, reply_to, reply_count, reactions, mentions, metadata, mentions_me) "
      "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15) "
      "ON CONFLICT(channel, seq) DO UPDATE SET version=excluded.version, sender=excluded.sender, "
      "client_id=excluded.client_id, body=excluded.body, created_at=excluded.created_at, "
      "edited_at=excluded.edited_at, deleted=excluded.deleted, reply_to=excluded.reply_to, "
      "reply_count=excluded.reply_count, reactions=excluded.reactions, "
      "mentions=excluded.mentions, metadata=excluded.metadata, mentions_me=excluded.mentions_me "
      // Equal version: a per-user copy (sync, history) may correct `mine`, which
      // fanned-out events do not carry.
      "WHERE excluded.version > messages.version OR (excluded.version = messages.version "
      "AND excluded.reactions IS NOT messages.reactions)");
  s.bind(1, m.channel)
      .bind(2, m.seq)
      .bind(3, m.version)
      .bind(4, m.sender)
      .bind(5, m.client_id)
      .bind(6, m.body)
      .bind(7, m.created_at)
      .bind(8, m.edited_at)
      .bind(9, m.deleted)
      .bind(10, m.reply_to)
      .bind(11, m.reply_count)
      .bind(12, encode_reactions(m.reactions))
      .bind(13, join_ids(m.mentions))
      .bind(14, m.metadata)
      .bind(15, mentions_me);
  if (!s.exec()) return false;
  return db_.changes() > 0;
}

std::optional<Message> Store::message(const std::string& channel, Seq seq) {
  auto s = db_.prepare(
      "SELECT channel, seq, version, sender, client_id, body, created_at, edited_at, deleted, "
      "reply_to, reply_count, reactions, mentions, metadata FROM messages "
      "WHERE channel = ?1 AND seq = ?2");
  s.bind(1, channel).bind(2, seq);
  if (s.step()) return read_message(s);
  return std::nullopt;
}

std::optional<Message> Store::message_by_client_id(const std::string& channel,
                                                   const std::string& client_id) {
  auto s = db_.prepare(
      "SELECT channel, seq, version, sender, client_id, body, created_at, edited_at, deleted, "
      "reply_to, reply_count, reactions, mentions, metadata FROM messages "
      "WHERE channel = ?1 AND client_id = ?2 LIMIT 1");
  s.bind(1, channel).bind(2, client_id);
  if (s.step()) return read_message(s);
  return std::nullopt;
}

std::vector<Message> Store::messages_from(const std::string& channel, Seq from) {
  std::vector<Message> out;
  auto s = db_.prepare(
      "SELECT channel, seq, version, sender, client_id, body, created_at, edited_at, deleted, "
      "reply_to, reply_count, reactions, mentions, metadata FROM messages "
      "WHERE channel = ?1 AND seq >= ?2 ORDER BY seq");
  s.bind(1, channel).bind(2, from);
  while (s.step())
    out.push_back(read_message(s));
  return out;
}

std::vector<Message> Store::messages_before(const std::string& channel, Seq before, std::size_t n) {
  std::vector<Message> out;
  auto s = db_.prepare(
      "SELECT channel, seq, version, sender, client_id, body, created_at, edited_at, deleted, "
      "reply_to, reply_count, reactions, mentions, metadata FROM messages "
      "WHERE channel = ?1 AND (?2 = 0 OR seq < ?2) ORDER BY seq DESC LIMIT ?3");
  s.bind(1, channel).bind(2, before).bind(3, static_cast<std::int64_t>(n));
  while (s.step())
    out.push_back(read_message(s));
  std::reverse(out.begin(), out.end());
  return out;
}

Seq Store::max_seq(const std::string& channel) {
  auto s = db_.prepare("SELECT COALESCE(MAX(seq), 0) FROM messages WHERE channel = ?1");
  s.bind(1, channel);
  return s.step() ? s.u64(0) : 0;
}

Seq Store::min_seq(const std::string& channel) {
  auto s = db_.prepare("SELECT COALESCE(MIN(seq), 0) FROM messages WHERE channel = ?1");
  s.bind(1, channel);
  return s.step() ? s.u64(0) : 0;
}

std::uint32_t Store::count_mentions_after(const std::string& channel, Seq after) {
  auto s = db_.prepare(
      "SELECT COUNT(*) FROM messages WHERE channel = ?1 AND seq > ?2 AND mentions_me = 1 "
      "AND deleted = 0");
  s.bind(1, channel).bind(2, after);
  return s.step() ? s.u32(0) : 0;
}

std::uint64_t Store::message_count() {
  auto s = db_.prepare("SELECT COUNT(*) FROM messages");
  return s.step() ? s.u64(0) : 0;
}

// ---- gaps ------------------------------------------------------------------------

void Store::add_gap(const std::string& channel, Gap g) {
  if (g.from == 0 || g.to < g.from) return;
  db_.prepare("INSERT OR REPLACE INTO gaps(channel, from_seq, to_seq) VALUES(?1, ?2, ?3)")
      .bind(1, channel)
      .bind(2, g.from)
      .bind(3, g.to)
      .exec();
}

std::vector<Gap> Store::gaps(const std::string& channel) {
  std::vector<Gap> out;
  auto s = db_.prepare("SELECT from_seq, to_seq FROM gaps WHERE channel = ?1 ORDER BY from_seq");
  s.bind(1, channel);
  while (s.step())
    out.push_back(Gap{s.u64(0), s.u64(1)});
  return out;
}

void Store::fill_gap(const std::string& channel, Seq from, Seq to) {
  if (to < from) return;
  for (const Gap& g : gaps(channel)) {
    if (g.to < from || g.from > to) continue;  // no overlap
    db_.prepare("DELETE FROM gaps WHERE channel = ?1 AND from_seq = ?2")
        .bind(1, channel)
        .bind(2, g.from)
        .exec();
    if (g.from < from) add_gap(channel, Gap{g.from, from - 1});
    if (g.to > to) add_gap(channel, Gap{to + 1, g.to});
  }
}

// ---- members and profiles -----------------------------------------------------------

void Store::upsert_member(const std::string& channel, const Member& m) {
  db_.prepare("INSERT OR REPLACE INTO members(channel, user, role, read_seq) VALUES(?1,?2,?3,?4)")
      .bind(1, channel)
      .bind(2, m.user)
      .bind(3, static_cast<int>(m.role))
      .bind(4, m.read_seq)
      .exec();
}

void Store::remove_member(const std::string& channel, const std::string& user) {
  db_.prepare("DELETE FROM members WHERE channel = ?1 AND user = ?2")
      .bind(1, channel)
      .bind(2, user)
      .exec();
}

std::vector<Member> Store::members(const std::string& channel) {
  std::vector<Member> out;
  auto s = db_.prepare("SELECT user, role, read_seq FROM members WHERE channel = ?1 ORDER BY user");
  s.bind(1, channel);
  while (s.step())
    out.push_back(Member{s.str(0), static_cast<Role>(s.i64(1)), s.u64(2)});
  return out;
}

void Store::upsert_profile(const User& u) {
  db_.prepare(
         "INSERT OR REPLACE INTO profiles(user, display_name, avatar_url, metadata) "
         "VALUES(?1,?2,?3,?4)")
      .bind(1, u.id)
      .bind(2, u.display_name)
      .bind(3, u.avatar_url)
      .bind(4, u.metadata)
      .exec();
}

std::optional<User> Store::profile(const std::string& user) {
  auto s =
      db_.prepare("SELECT user, display_name, avatar_url, metadata FROM profiles WHERE user = ?1");
  s.bind(1, user);
  if (s.step()) return User{s.str(0), s.str(1), s.str(2), s.str(3)};
  return std::nullopt;
}

// ---- outbox ----------------------------------------------------------------------------

#define OP_COLS                                                                        \
  "id, kind, state, channel, client_id, seq, fail_code, fail_retryable, fail_reason, " \
  "created_at, body, reply_to, mentions, metadata, emoji, users, target_client_id, "   \
  "create_kind, name, has_name, avatar_url, has_avatar, is_public, lane, attempts, version, " \
  "has_public, has_metadata, role"

OpRow Store::read_op(const Stmt& s) const {
  OpRow r;
  r.op.id = s.i64(0);
  r.op.kind = static_cast<OpKind>(s.i64(1));
  r.op.state = static_cast<OpState>(s.i64(2));
  r.op.channel = s.str(3);
  r.op.client_id = s.str(4);
  r.op.seq = s.u64(5);
  if (r.op.state == OpState::failed)
    r.op.failure = OpFailure{static_cast<Errc>(s.i64(6)), s.b(7), s.str(8)};
  r.op.created_at = s.i64(9);
  r.body = s.str(10);
  r.reply_to = s.u64(11);
  r.mentions = split_ids(s.str(12));
  r.metadata = s.str(13);
  r.emoji = s.str(14);
  r.users = split_ids(s.str(15));
  r.target_client_id = s.str(16);
  r.create_kind = static_cast<ChannelKind>(s.i64(17));
  r.name = s.str(18);
  r.has_name = s.b(19);
  r.avatar_url = s.str(20);
  r.has_avatar = s.b(21);
  r.is_public = s.b(22);
  r.lane = s.str(23);
  r.attempts = s.u32(24);
  r.version = s.u64(25);
  r.has_public = s.b(26);
  r.has_metadata = s.b(27);
  r.role = static_cast<Role>(s.i64(28));
  return r;
}

Result<void> Store::insert_op(OpRow& r) {
  auto s = db_.prepare(
      "INSERT INTO outbox(kind, state, channel, client_id, seq, fail_code, fail_retryable, "
      "fail_reason, created_at, body, reply_to, mentions, metadata, emoji, users, "
      "target_client_id, create_kind, name, has_name, avatar_url, has_avatar, is_public, lane, "
      "attempts, version, has_public, has_metadata, role) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,"
      "?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28)");
  const Op& o = r.op;
  s.bind(1, static_cast<int>(o.kind))
      .bind(2, static_cast<int>(o.state))
      .bind(3, o.channel)
      .bind(4, o.client_id)
      .bind(5, o.seq)
      .bind(6, o.failure ? static_cast<int>(o.failure->code) : 0)
      .bind(7, o.failure ? o.failure->retryable : false)
      .bind(8, o.failure ? o.failure->reason : std::string())
      .bind(9, o.created_at)
      .bind(10, r.body)
      .bind(11, r.reply_to)
      .bind(12, join_ids(r.mentions))
      .bind(13, r.metadata)
      .bind(14, r.emoji)
      .bind(15, join_ids(r.users))
      .bind(16, r.target_client_id)
      .bind(17, static_cast<int>(r.create_kind))
      .bind(18, r.name)
      .bind(19, r.has_name)
      .bind(20, r.avatar_url)
      .bind(21, r.has_avatar)
      .bind(22, r.is_public)
      .bind(23, r.lane)
      .bind(24, r.attempts)
      .bind(25, r.version)
      .bind(26, r.has_public)
      .bind(27, r.has_metadata)
      .bind(28, static_cast<int>(r.role));
  if (!s.exec()) return db_.last_error();
  r.op.id = db_.last_insert_rowid();
  return {};
}

Result<void> Store::update_op(const OpRow& r) {
  const Op& o = r.op;
  auto s = db_.prepare(
      "UPDATE outbox SET state=?2, seq=?3, fail_code=?4, fail_retryable=?5, fail_reason=?6, "
      "attempts=?7, target_client_id=?8, version=?9, channel=?10 WHERE id=?1");
  s.bind(1, o.id)
      .bind(2, static_cast<int>(o.state))
      .bind(3, o.seq)
      .bind(4, o.failure ? static_cast<int>(o.failure->code) : 0)
      .bind(5, o.failure ? o.failure->retryable : false)
      .bind(6, o.failure ? o.failure->reason : std::string())
      .bind(7, r.attempts)
      .bind(8, r.target_client_id)
      .bind(9, r.version)
      .bind(10, o.channel);
  if (!s.exec()) return db_.last_error();
  return {};
}

std::vector<OpRow> Store::open_ops() {
  std::vector<OpRow> out;
  // Unfinished ops, plus the most recent sends still waiting for receipts.
  auto s = db_.prepare("SELECT " OP_COLS
                       " FROM outbox WHERE state IN (0, 1, 5) OR id IN (SELECT id FROM outbox "
                       "WHERE kind = 0 AND state IN (2, 3) ORDER BY id DESC LIMIT ?1) ORDER BY id");
  s.bind(1, static_cast<std::int64_t>(kTrackedSends));
  while (s.step())
    out.push_back(read_op(s));
  return out;
}

std::size_t Store::prune_finished_ops(std::size_t keep) {
  // Finished: sent, delivered, read, cancelled. Unfinished rows are never touched.
  auto s = db_.prepare(
      "DELETE FROM outbox WHERE state IN (2, 3, 4, 6) AND id NOT IN (SELECT id FROM outbox "
      "WHERE state IN (2, 3, 4, 6) ORDER BY id DESC LIMIT ?1)");
  s.bind(1, static_cast<std::int64_t>(keep));
  if (!s.exec()) return 0;
  return static_cast<std::size_t>(db_.changes());
}

std::optional<OpRow> Store::op(OpId id) {
  auto s = db_.prepare("SELECT " OP_COLS " FROM outbox WHERE id = ?1");
  s.bind(1, id);
  if (s.step()) return read_op(s);
  return std::nullopt;
}

std::uint64_t Store::op_count() {
  auto s = db_.prepare("SELECT COUNT(*) FROM outbox");
  return s.step() ? s.u64(0) : 0;
}

// ---- cache size ----------------------------------------------------------------------------

std::uint64_t Store::used_bytes() {
  std::uint64_t pages = 0, free_pages = 0, page_size = 0;
  {
    auto s = db_.prepare("PRAGMA page_count");
    if (s.step()) pages = s.u64(0);
  }
  {
    auto s = db_.prepare("PRAGMA freelist_count");
    if (s.step()) free_pages = s.u64(0);
  }
  {
    auto s = db_.prepare("PRAGMA page_size");
    if (s.step()) page_size = s.u64(0);
  }
  return (pages - std::min(pages, free_pages)) * page_size;
}

std::size_t Store::evict_oldest(std::size_t n,
                                const std::vector<std::pair<std::string, Seq>>& protect) {
  // Candidates oldest first; protected: seq >= floor of an open timeline.
  std::vector<std::pair<std::string, Seq>> victims;
  {
    // Never the newest kKeepPerChannel of a channel: the channel list preview
    // and the first screen of every conversation stay readable offline.
    auto s = db_.prepare(
        "SELECT m.channel, m.seq FROM messages m WHERE m.seq + ?2 <= "
        "(SELECT MAX(x.seq) FROM messages x WHERE x.channel = m.channel) "
        "ORDER BY m.created_at, m.seq LIMIT ?1");
    s.bind(1, static_cast<std::int64_t>(n * 2 + 64));
    s.bind(2, static_cast<std::int64_t>(kKeepPerChannel));
    while (s.step() && victims.size() < n) {
      std::string ch = s.str(0);
      Seq seq = s.u64(1);
      bool keep = std::any_of(protect.begin(), protect.end(),
                              [&](const auto& p) { return p.first == ch && seq >= p.second; });
      if (!keep) victims.emplace_back(std::move(ch), seq);
    }
  }
  for (const auto& [ch, seq] : victims)
    db_.prepare("DELETE FROM messages WHERE channel = ?1 AND seq = ?2")
        .bind(1, ch)
        .bind(2, seq)
        .exec();
  return victims.size();
}

// ---- suspension --------------------------------------------------------------------------

void Store::quiesce() noexcept {
  rollback_batch();  // (also back to synchronous=FULL if a batch was open)
  db_.reset_all();
  if (db_.handle() != nullptr)
    sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
}

}  // namespace chatsdk::client
