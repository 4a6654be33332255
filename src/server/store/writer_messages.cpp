// Writer ops on messages: send, edit, delete, react (see writer.hpp).
#include <algorithm>

#include "server/store/rows.hpp"
#include "server/store/writer.hpp"

namespace chatsdk::server::store {
using writer_detail::can_moderate;
using writer_detail::failure;

namespace {

constexpr std::size_t kMaxEmojiPerMessage = 32;
constexpr char kInsertMessage[] =
    "INSERT INTO messages (channel, seq, version, created_version, sender, client_id, body, "
    "created_at, reply_to, metadata, mentions) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
    "?11)";
constexpr char kInsertMention[] =
    "INSERT OR IGNORE INTO mentions (user, channel, seq) VALUES (?1, ?2, ?3)";
constexpr char kBumpReplyCount[] =
    "UPDATE messages SET reply_count = reply_count + 1, version = ?3 "
    "WHERE channel = ?1 AND seq = ?2 RETURNING " CHATSDK_MSG_COLS;
constexpr char kEditMessage[] =
    "UPDATE messages SET body = ?3, metadata = ?4, edited_at = ?5, version = ?6 "
    "WHERE channel = ?1 AND seq = ?2";
constexpr char kDeleteMessage[] =
    "UPDATE messages SET body = '', metadata = '', reactions = '', mentions = '', deleted = 1, "
    "version = ?3 WHERE channel = ?1 AND seq = ?2";
constexpr char kDeleteReactions[] = "DELETE FROM reactions WHERE channel = ?1 AND seq = ?2";
constexpr char kDeleteMentions[] =
    "DELETE FROM mentions WHERE user = ?3 AND channel = ?1 AND seq = ?2";
constexpr char kHasReaction[] =
    "SELECT 1 FROM reactions WHERE channel = ?1 AND seq = ?2 AND emoji = ?3 AND user = ?4";
constexpr char kInsertReaction[] =
    "INSERT INTO reactions (channel, seq, emoji, user) VALUES (?1, ?2, ?3, ?4)";
constexpr char kDeleteReaction[] =
    "DELETE FROM reactions WHERE channel = ?1 AND seq = ?2 AND emoji = ?3 AND user = ?4";
constexpr char kSetReactions[] =
    "UPDATE messages SET reactions = ?3, version = ?4 WHERE channel = ?1 AND seq = ?2";

}  // namespace

WriteResult Writer::send(SendOp& op) {
  // Every refusal first asks whether this is a resend of a stored message:
  // a retry answers "already applied" even if the sender has since left.
  auto refuse = [&](Errc code, const char* why) {
    WriteResult r;
    if (sent_before(op.user, op.client_id, r)) return r;
    return failure(code, why);
  };
  Channel* ch = find(op.channel);
  if (ch == nullptr) return refuse(Errc::not_found, "no such channel");
  if (op.body.size() > config_.max_body_bytes) return refuse(Errc::body_too_large, "body");
  if (too_big(op.metadata)) return refuse(Errc::body_too_large, "metadata");
  if (!is_member(*ch, op.user)) return refuse(Errc::not_member, "not a member");
  if (op.reply_to > ch->info.last_seq) return refuse(Errc::not_found, "no such parent message");
  if (db_.failed()) return {};

  touch(*ch);
  const Seq seq = ++ch->info.last_seq;
  const Version version = ++ch->info.version;
  const Version last_version = op.reply_to != 0 ? version + 1 : version;

  std::sort(op.mentions.begin(), op.mentions.end());
  op.mentions.erase(std::unique(op.mentions.begin(), op.mentions.end()), op.mentions.end());
  const std::string mentions = encode_mentions(op.mentions);
  {
    // No lookup of (sender, client_id) before the insert: the unique index
    // checks it anyway, so a resend shows up as this insert's constraint
    // failure (the statement alone is undone; the transaction goes on).
    Query q(db_, kInsertMessage);
    q.bind(1, ch->id).bind(2, seq).bind(3, version).bind(4, version).bind(5, op.user);
    q.bind_or_null(6, op.client_id).bind(7, op.body).bind(8, op.now).bind(9, op.reply_to);
    q.bind(10, op.metadata.json).bind(11, mentions);
    if (!q.run() && db_.rc() == SQLITE_CONSTRAINT_UNIQUE) {
      --ch->info.last_seq;
      --ch->info.version;
      const std::string cause = db_.error();
      db_.clear_error();
      WriteResult r;
      if (sent_before(op.user, op.client_id, r)) return r;
      db_.record(SQLITE_CONSTRAINT_UNIQUE, cause.c_str());  // not a resend: a real failure
      return {};
    }
  }
  for (const auto& u : op.mentions) {
    Query q(db_, kInsertMention);
    q.bind(1, u).bind(2, ch->id).bind(3, seq);
    q.run();
  }
  // The sender's own read cursor moves in the engine and is written behind
  // with the receipts: one cursor row per send was a fifth of a send's writes.

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
  if (m.deleted) {  // semantic no-op: ok, nothing changes, so no version (protocol.md)
    r.version = 0;
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
  if (exists == adding || db_.failed()) {  // semantic no-op: no version (protocol.md)
    r.version = 0;
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

}  // namespace chatsdk::server::store
