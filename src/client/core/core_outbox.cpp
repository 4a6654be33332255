// Core: the outbox op-log. Every mutation is a row in SQLite before the API
// call returns; ops of one lane (a channel) go out strictly one at a time in
// creation order, so a failure can never reorder a channel's sends.
#include <algorithm>

#include "client/core/core.hpp"
#include "common/protocol/limits.hpp"

namespace chatsdk::client {

namespace {
bool open_state(OpState s) {
  return s == OpState::queued || s == OpState::sending || s == OpState::failed;
}
}  // namespace

OpRow* Core::find_op(OpId id) {
  auto it = ops_.find(id);
  return it == ops_.end() ? nullptr : &it->second;
}

OpRow* Core::find_op_by_client_id(const std::string& client_id) {
  for (auto& [id, row] : ops_)
    if (row.op.client_id == client_id) return &row;
  return nullptr;
}

Result<OpId> Core::enqueue(OpRow row) {
  row.op.client_id = new_client_id();
  row.op.created_at = wall();
  row.op.state = OpState::queued;
  if (row.lane.empty())
    row.lane = row.op.channel.empty() ? "op:" + row.op.client_id : row.op.channel;
  if (auto r = store_.insert_op(row); !r) return r.error();  // durable before we return
  OpId id = row.op.id;
  emit(OpChanged{row.op});
  std::string ch = row.op.channel;
  ops_.emplace(id, std::move(row));
  if (!ch.empty()) mark_dirty(ch);
  pump_outbox();
  flush_views();
  return id;
}

void Core::set_op_state(OpRow& row, OpState s, std::optional<OpFailure> failure) {
  row.op.state = s;
  row.op.failure = s == OpState::failed ? std::move(failure) : std::nullopt;
  if (auto r = store_.update_op(row); !r)
    emit(ErrorEvent{r.error().code, "outbox write: " + r.error().message});
  emit(OpChanged{row.op});
  if (!row.op.channel.empty()) mark_dirty(row.op.channel);
}

// ---- commands --------------------------------------------------------------------

// Rejected up front against the limits the server announced (welcome.limits,
// remembered across restarts): an op that can only fail permanently would
// hold back its channel.
Result<void> Core::check_limits(const std::string& body, const std::string& metadata) const {
  std::size_t max_body = max_body_bytes_ != 0 ? max_body_bytes_ : proto::kMaxBodyBytes;
  if (body.size() > max_body)
    return Error{Errc::body_too_large, "body exceeds " + std::to_string(max_body) + " bytes"};
  std::size_t max_meta = max_metadata_bytes_ != 0 ? max_metadata_bytes_ : proto::kMaxMetadataBytes;
  if (metadata.size() > max_meta)
    return Error{Errc::body_too_large, "metadata exceeds " + std::to_string(max_meta) + " bytes"};
  return {};
}

Result<OpId> Core::send_text(const std::string& channel, const std::string& body,
                             const SendOptions& opts) {
  if (channel.empty()) return Error{Errc::invalid_argument, "channel is empty"};
  if (body.empty()) return Error{Errc::invalid_argument, "body is empty"};
  if (auto r = check_limits(body, opts.metadata); !r) return r.error();
  OpRow row;
  row.op.kind = OpKind::send;
  row.op.channel = channel;
  row.body = body;
  row.reply_to = opts.reply_to;
  row.mentions = opts.mentions;
  row.metadata = opts.metadata;
  // A send ends the typing indicator right away (stop <= 1 s after send).
  if (auto it = typing_out_.find(channel); it != typing_out_.end() && it->second.active)
    send_typing(channel, proto::TypingState::stop);
  return enqueue(std::move(row));
}

static Result<void> check_ref(const MessageRef& m) {
  if (m.channel.empty()) return Error{Errc::invalid_argument, "channel is empty"};
  if (m.seq == 0 && m.client_id.empty())
    return Error{Errc::invalid_argument, "message needs a seq or a client_id"};
  return {};
}

Result<OpId> Core::edit(const MessageRef& msg, const std::string& body,
                        const std::string& metadata) {
  if (auto r = check_ref(msg); !r) return r.error();
  if (auto r = check_limits(body, metadata); !r) return r.error();
  if (body.empty()) return Error{Errc::invalid_argument, "body is empty"};
  OpRow row;
  row.op.kind = OpKind::edit;
  row.op.channel = msg.channel;
  row.op.seq = msg.seq;
  row.target_client_id = msg.seq == 0 ? msg.client_id : std::string();
  row.body = body;
  row.metadata = metadata;
  return enqueue(std::move(row));
}

Result<OpId> Core::remove(const MessageRef& msg) {
  if (auto r = check_ref(msg); !r) return r.error();
  OpRow row;
  row.op.kind = OpKind::delete_message;
  row.op.channel = msg.channel;
  row.op.seq = msg.seq;
  row.target_client_id = msg.seq == 0 ? msg.client_id : std::string();
  return enqueue(std::move(row));
}

Result<OpId> Core::react(const MessageRef& msg, const std::string& emoji, bool add) {
  if (auto r = check_ref(msg); !r) return r.error();
  if (emoji.empty()) return Error{Errc::invalid_argument, "emoji is empty"};
  OpRow row;
  row.op.kind = add ? OpKind::react : OpKind::unreact;
  row.op.channel = msg.channel;
  row.op.seq = msg.seq;
  row.target_client_id = msg.seq == 0 ? msg.client_id : std::string();
  row.emoji = emoji;
  return enqueue(std::move(row));
}

Result<OpId> Core::mark_read(const std::string& channel, Seq seq) {
  auto ch = store_.channel_row(channel);
  if (!ch) return Error{Errc::not_found, "unknown channel"};
  if (seq == 0 || seq > ch->channel.last_seq) seq = ch->channel.last_seq;
  // The local cursor and the op that carries it commit together: a crash
  // between them left the badge at zero while the server never heard of it.
  Transaction tx(store_);
  // Apply locally at once (badge goes to zero offline too); the op carries it.
  if (seq > ch->channel.read_seq) {
    ch->channel.read_seq = seq;
    ch->channel.unread =
        ch->channel.last_seq > seq ? static_cast<std::uint32_t>(ch->channel.last_seq - seq) : 0;
    ch->channel.mentions = ch->channel.unread == 0 ? 0 : store_.count_mentions_after(channel, seq);
    store_.upsert_channel(*ch);
    mark_dirty(channel);
  }
  // Coalesce with a queued mark_read of the same channel.
  for (auto& [id, row] : ops_) {
    if (row.op.kind == OpKind::mark_read && row.op.channel == channel &&
        row.op.state == OpState::queued) {
      if (seq > row.op.seq) {
        row.op.seq = seq;
        (void)store_.update_op(row);
        emit(OpChanged{row.op});
      }
      if (auto c = tx.commit(); !c) return c.error();
      flush_views();
      return id;
    }
  }
  OpRow row;
  row.op.kind = OpKind::mark_read;
  row.op.channel = channel;
  row.op.seq = seq;
  row.lane = "read:" + channel;  // receipts never wait behind a failed send
  auto id = enqueue(std::move(row));
  if (!id) return id;  // the transaction rolls the local cursor back too
  if (auto c = tx.commit(); !c) return c.error();
  return id;
}

Result<OpId> Core::create_group(const std::string& channel_id, const std::string& name,
                                const std::vector<std::string>& members, bool is_public) {
  OpRow row;
  row.op.kind = OpKind::channel_create;
  row.op.channel = channel_id;
  row.create_kind = ChannelKind::group;
  row.name = name;
  row.users = members;
  row.is_public = is_public;
  return enqueue(std::move(row));
}

Result<OpId> Core::create_direct(const std::string& other_user) {
  if (other_user.empty()) return Error{Errc::invalid_argument, "user is empty"};
  OpRow row;
  row.op.kind = OpKind::channel_create;
  if (!me_.empty())  // the server derives "dm:<a>:<b>" (ids sorted); so can we
    row.op.channel =
        me_ < other_user ? "dm:" + me_ + ":" + other_user : "dm:" + other_user + ":" + me_;
  row.create_kind = ChannelKind::direct;
  row.users = {other_user};
  return enqueue(std::move(row));
}

Result<OpId> Core::add_members(const std::string& channel, const std::vector<std::string>& users) {
  if (channel.empty() || users.empty()) return Error{Errc::invalid_argument, "channel/users empty"};
  OpRow row;
  row.op.kind = OpKind::members_add;
  row.op.channel = channel;
  row.users = users;
  return enqueue(std::move(row));
}

Result<OpId> Core::join(const std::string& channel) {
  if (channel.empty()) return Error{Errc::invalid_argument, "channel is empty"};
  OpRow row;
  row.op.kind = OpKind::join;
  row.op.channel = channel;
  return enqueue(std::move(row));
}

Result<OpId> Core::remove_members(const std::string& channel,
                                  const std::vector<std::string>& users) {
  if (channel.empty() || users.empty()) return Error{Errc::invalid_argument, "channel/users empty"};
  OpRow row;
  row.op.kind = OpKind::members_remove;
  row.op.channel = channel;
  row.users = users;
  return enqueue(std::move(row));
}

Result<OpId> Core::leave(const std::string& channel) {
  if (me_.empty()) return Error{Errc::invalid_state, "user id unknown until the first connect"};
  return remove_members(channel, {me_});
}

Result<OpId> Core::update_channel(const std::string& channel, std::optional<std::string> name,
                                  std::optional<bool> is_public,
                                  std::optional<std::string> metadata_json) {
  if (channel.empty()) return Error{Errc::invalid_argument, "channel is empty"};
  if (!name && !is_public && !metadata_json)
    return Error{Errc::invalid_argument, "nothing to update"};
  if (metadata_json) {
    if (metadata_json->empty()) *metadata_json = "{}";  // "" clears, like {}
    if (auto r = check_limits({}, *metadata_json); !r) return r.error();
  }
  OpRow row;
  row.op.kind = OpKind::channel_update;
  row.op.channel = channel;
  row.has_name = name.has_value();
  row.name = name.value_or("");
  row.has_public = is_public.has_value();
  row.is_public = is_public.value_or(false);
  row.has_metadata = metadata_json.has_value();
  row.metadata = metadata_json.value_or("");
  return enqueue(std::move(row));
}

Result<OpId> Core::set_role(const std::string& channel, const std::string& user, Role role) {
  if (channel.empty() || user.empty()) return Error{Errc::invalid_argument, "channel/user empty"};
  if (role != Role::member && role != Role::moderator && role != Role::owner)
    return Error{Errc::invalid_argument, "unknown role"};
  OpRow row;
  row.op.kind = OpKind::member_role;
  row.op.channel = channel;
  row.users = {user};
  row.role = role;
  return enqueue(std::move(row));
}

Result<OpId> Core::set_profile(std::optional<std::string> display_name,
                               std::optional<std::string> avatar_url) {
  OpRow row;
  row.op.kind = OpKind::profile_set;
  row.has_name = display_name.has_value();
  row.name = display_name.value_or("");
  row.has_avatar = avatar_url.has_value();
  row.avatar_url = avatar_url.value_or("");
  row.lane = "profile";
  return enqueue(std::move(row));
}

Result<void> Core::retry(OpId id) {
  OpRow* row = find_op(id);
  if (row == nullptr || row->op.state != OpState::failed)
    return Error{Errc::invalid_state, "only a failed op can be retried"};
  row->attempts = 0;
  not_before_.erase(id);
  set_op_state(*row, OpState::queued);
  pump_outbox();
  flush_views();
  return {};
}

Result<void> Core::cancel(OpId id) {
  OpRow* row = find_op(id);
  if (row == nullptr) return Error{Errc::not_found, "no open op with that id"};
  if (row->op.state != OpState::queued && row->op.state != OpState::failed)
    return Error{Errc::invalid_state, "op is in flight or done; it cannot be cancelled"};
  std::string cid = row->op.client_id;
  set_op_state(*row, OpState::cancelled);
  ops_.erase(id);
  not_before_.erase(id);
  // Ops that target the cancelled (never sent) message can never apply.
  for (auto& [oid, dep] : ops_) {
    if (!cid.empty() && dep.target_client_id == cid && dep.op.seq == 0 &&
        open_state(dep.op.state) && dep.op.state != OpState::sending)
      set_op_state(dep, OpState::failed,
                   OpFailure{Errc::cancelled, false, "the target message was cancelled"});
  }
  pump_outbox();
  flush_views();
  return {};
}

std::optional<Op> Core::op(OpId id) {
  if (OpRow* row = find_op(id)) return row->op;
  if (auto row = store_.op(id)) return row->op;
  return std::nullopt;
}

std::vector<Op> Core::pending_ops() {
  std::vector<Op> out;
  for (const auto& [id, row] : ops_)
    if (open_state(row.op.state)) out.push_back(row.op);
  return out;
}

// ---- replay ----------------------------------------------------------------------

void Core::pump_outbox() {
  outbox_retry_at_ = -1;
  if (!live()) return;
  std::set<std::string> blocked;  // lanes whose head is in flight, failed or waiting
  std::vector<OpId> order;
  for (auto& [id, row] : ops_)
    order.push_back(id);  // map order = creation order
  for (OpId id : order) {
    OpRow* row = find_op(id);
    if (row == nullptr || !open_state(row->op.state)) continue;
    if (blocked.count(row->lane) != 0) continue;
    if (row->op.state == OpState::sending) {
      blocked.insert(row->lane);
      continue;
    }
    if (row->op.state == OpState::failed) {
      if (opt_.failed_op_blocks_channel) blocked.insert(row->lane);
      continue;
    }
    if (auto nb = not_before_.find(id); nb != not_before_.end()) {
      if (now() < nb->second) {
        if (outbox_retry_at_ < 0 || nb->second < outbox_retry_at_) outbox_retry_at_ = nb->second;
        blocked.insert(row->lane);
        continue;
      }
      not_before_.erase(nb);
    }
    // Dependency: an op on a local message waits for that message's seq.
    if (row->op.seq == 0 && !row->target_client_id.empty()) {
      Seq target = 0;
      if (OpRow* dep = find_op_by_client_id(row->target_client_id)) target = dep->op.seq;
      if (target == 0)
        if (auto m = store_.message_by_client_id(row->op.channel, row->target_client_id))
          target = m->seq;
      if (target == 0) {
        blocked.insert(row->lane);
        continue;
      }
      row->op.seq = target;
      (void)store_.update_op(*row);
    }
    dispatch(*row);
    blocked.insert(row->lane);
  }
}

bool Core::dispatch(OpRow& row) {
  auto id = next_id();
  const Op& o = row.op;
  switch (o.kind) {
    case OpKind::send: {
      proto::Send f;
      f.id = id;
      f.channel = o.channel;
      f.client_id = o.client_id;
      f.body = row.body;
      f.reply_to = row.reply_to;
      f.mentions = row.mentions;
      f.metadata.json = row.metadata;
      send(std::move(f));
      break;
    }
    case OpKind::edit: {
      proto::Edit f;
      f.id = id;
      f.channel = o.channel;
      f.seq = o.seq;
      f.client_id = o.client_id;
      f.body = row.body;
      f.metadata.json = row.metadata;
      send(std::move(f));
      break;
    }
    case OpKind::delete_message:
      send(proto::Delete{id, o.channel, o.seq, o.client_id});
      break;
    case OpKind::react:
    case OpKind::unreact:
      send(proto::React{
          id, o.channel, o.seq, o.client_id, row.emoji,
          o.kind == OpKind::react ? proto::ReactAction::add : proto::ReactAction::remove});
      break;
    case OpKind::mark_read:
      send(proto::MarkRead{id, o.channel, o.seq});
      break;
    case OpKind::channel_create: {
      proto::ChannelCreate f;
      f.id = id;
      f.client_id = o.client_id;
      f.kind = static_cast<proto::ChannelKind>(row.create_kind);
      if (row.create_kind != ChannelKind::direct) f.channel = o.channel;
      f.name = row.name;
      f.is_public = row.is_public;
      f.members = row.users;
      send(std::move(f));
      break;
    }
    case OpKind::members_add: {
      proto::MembersAdd f;
      f.id = id;
      f.channel = o.channel;
      f.client_id = o.client_id;
      f.users = row.users;
      send(std::move(f));
      break;
    }
    case OpKind::join:  // idempotent on the server: a rejoin answers `channel` again
      send(proto::Join{id, o.channel});
      break;
    case OpKind::members_remove: {
      proto::MembersRemove f;
      f.id = id;
      f.channel = o.channel;
      f.client_id = o.client_id;
      f.users = row.users;
      send(std::move(f));
      break;
    }
    case OpKind::channel_update: {
      proto::ChannelUpdate f;
      f.id = id;
      f.channel = o.channel;
      f.client_id = o.client_id;
      if (row.has_name) f.name = row.name;
      if (row.has_public) f.is_public = row.is_public;
      if (row.has_metadata) f.metadata = proto::JsonObject{row.metadata};
      send(std::move(f));
      break;
    }
    case OpKind::member_role: {
      proto::MemberRole f;
      f.id = id;
      f.channel = o.channel;
      f.client_id = o.client_id;
      f.user = row.users.empty() ? std::string() : row.users.front();
      f.role = static_cast<proto::Role>(row.role);
      send(std::move(f));
      break;
    }
    case OpKind::profile_set: {
      proto::ProfileSet f;
      f.id = id;
      if (row.has_name) f.display_name = row.name;
      if (row.has_avatar) f.avatar_url = row.avatar_url;
      send(std::move(f));
      break;
    }
  }
  track(id, Pending{Pending::Kind::op, o.id, o.channel, false});
  ++row.attempts;
  set_op_state(row, OpState::sending);
  return true;
}

// ---- replies ------------------------------------------------------------------------

void Core::op_succeeded(OpRow& row, Seq seq, Version version, TimeMs created_at) {
  if (!open_state(row.op.state)) return;  // a duplicate answer
  not_before_.erase(row.op.id);
  if (row.op.kind == OpKind::send) {
    row.op.seq = seq;
    // Store the confirmed message now so the echo becomes the real row in place.
    if (seq != 0 && !store_.message(row.op.channel, seq)) {
      Message m;
      m.channel = row.op.channel;
      m.seq = seq;
      m.version = version;
      m.sender = me_;
      m.client_id = row.op.client_id;
      m.body = row.body;
      m.created_at = created_at != 0 ? created_at : row.op.created_at;
      m.reply_to = row.reply_to;
      m.mentions = row.mentions;
      m.metadata = row.metadata;
      store_.upsert_message(m, false);
    }
  }
  row.version = version;
  OpId id = row.op.id;
  set_op_state(row, OpState::sent);
  if (row.op.kind != OpKind::send) {
    ops_.erase(id);  // sent is final for non-sends
  } else {
    forget_old_sends();
  }
  pump_outbox();
}

// Sends stay in memory after `sent` to turn into delivered/read on receipts;
// large channels send no receipts, so only the newest few are tracked.
void Core::forget_old_sends() {
  std::size_t tracked = 0;
  for (auto it = ops_.rbegin(); it != ops_.rend(); ++it)
    if (it->second.op.state == OpState::sent || it->second.op.state == OpState::delivered)
      ++tracked;
  for (auto it = ops_.begin(); it != ops_.end() && tracked > Store::kTrackedSends;) {
    if (it->second.op.state == OpState::sent || it->second.op.state == OpState::delivered) {
      it = ops_.erase(it);
      --tracked;
    } else {
      ++it;
    }
  }
}

void Core::op_failed(OpRow& row, Errc code, const std::string& reason, std::uint32_t retry_after) {
  bool retryable = errc_retryable(code);
  if (retryable && row.attempts < opt_.max_auto_retries) {
    std::int64_t wait = retry_after != 0
                            ? static_cast<std::int64_t>(retry_after)
                            : std::min<std::int64_t>(30'000, 500LL << std::min(row.attempts, 6u));
    not_before_[row.op.id] = now() + wait;
    set_op_state(row, OpState::queued);
    pump_outbox();
    return;
  }
  set_op_state(row, OpState::failed, OpFailure{code, retryable, reason});
  pump_outbox();
}

static std::vector<Reaction> apply_reaction(std::vector<Reaction> rs, const std::string& emoji,
                                            bool add) {
  auto it = std::find_if(rs.begin(), rs.end(), [&](const Reaction& r) { return r.emoji == emoji; });
  if (add) {
    if (it == rs.end())
      rs.push_back(Reaction{emoji, 1, true});
    else if (!it->mine) {
      ++it->count;
      it->mine = true;
    }
  } else if (it != rs.end() && it->mine) {
    it->mine = false;
    if (--it->count == 0) rs.erase(it);
  }
  return rs;
}

void Core::handle(const proto::Sent& f) {
  auto it = pending_.find(f.id);
  OpRow* row = nullptr;
  if (it != pending_.end() && it->second.kind == Pending::Kind::op) row = find_op(it->second.op);
  if (it != pending_.end()) pending_.erase(it);
  if (row == nullptr) row = find_op_by_client_id(f.client_id);
  if (row == nullptr) return;
  Transaction tx(store_);
  OpRow& r = *row;
  std::string channel = r.op.channel;
  bool reply = r.reply_to != 0;
  op_succeeded(r, f.seq, f.version, f.created_at);
  if (auto ch = store_.channel_row(channel)) {
    Channel& c = ch->channel;
    c.last_seq = std::max(c.last_seq, f.seq);
    c.read_seq = std::max(c.read_seq, f.seq);  // sending advances our read cursor
    c.unread = c.last_seq > c.read_seq ? static_cast<std::uint32_t>(c.last_seq - c.read_seq) : 0;
    if (c.unread == 0) c.mentions = 0;
    c.last_activity = std::max(c.last_activity, f.created_at);
    store_.upsert_channel(*ch);
  }
  advance_cursor(channel, f.version);
  (void)tx.commit();
  if (reply) request_sync();  // the parent's reply_count changed too (next version)
  mark_dirty(channel);
}

void Core::handle(const proto::AlreadyApplied& f) {
  auto it = pending_.find(f.id);
  OpRow* row = nullptr;
  if (it != pending_.end() && it->second.kind == Pending::Kind::op) row = find_op(it->second.op);
  if (it != pending_.end()) pending_.erase(it);
  if (row == nullptr) row = find_op_by_client_id(f.client_id);
  if (row == nullptr) return;
  if (row->op.channel.empty()) row->op.channel = f.channel;  // unnamed channel_create
  bool is_send = row->op.kind == OpKind::send;
  std::string channel = row->op.channel;
  Seq seq = is_send ? f.seq : row->op.seq;
  // The original ack was lost; we may lack the resulting state: fetch it.
  bool missing = is_send && f.seq != 0 && !store_.message(channel, f.seq);
  op_succeeded(*row, seq, f.version, 0);
  if (missing || !is_send) request_sync();
}

void Core::handle(const proto::Ok& f) {
  auto it = pending_.find(f.id);
  if (it == pending_.end()) return;
  Pending p = it->second;
  pending_.erase(it);
  if (p.kind != Pending::Kind::op) return;  // auth_refresh and friends
  OpRow* row = find_op(p.op);
  if (row == nullptr) return;
  OpRow r = *row;  // op_succeeded may erase it
  Transaction tx(store_);
  if (f.version != 0 && r.op.seq != 0) {
    // Reflect our own change at once (the sending session gets no event).
    if (auto m = store_.message(r.op.channel, r.op.seq)) {
      Message upd = *m;
      upd.version = f.version;
      switch (r.op.kind) {
        case OpKind::edit:
          upd.body = r.body;
          upd.metadata = r.metadata;
          upd.edited_at = wall();
          break;
        case OpKind::delete_message:
          upd.deleted = true;
          upd.body.clear();
          upd.metadata.clear();
          upd.reactions.clear();
          break;
        case OpKind::react:
        case OpKind::unreact:
          upd.reactions = apply_reaction(upd.reactions, r.emoji, r.op.kind == OpKind::react);
          break;
        default:
          break;
      }
      if (r.op.kind != OpKind::mark_read) store_.upsert_message(upd, false);
    }
  }
  op_succeeded(*row, r.op.seq, f.version, 0);
  if (f.version != 0 && !r.op.channel.empty()) advance_cursor(r.op.channel, f.version);
  (void)tx.commit();
  if (!r.op.channel.empty()) mark_dirty(r.op.channel);
}

void Core::handle(const proto::ChannelReply& f) {
  auto it = pending_.find(f.id);
  if (it == pending_.end()) return;
  Pending p = it->second;
  pending_.erase(it);
  auto existing = store_.channel_row(f.info.channel);
  ChannelRow row = existing ? *existing : ChannelRow{};
  apply_info(row, f.info);
  store_.upsert_channel(row);
  mark_dirty(f.info.channel);
  if (OpRow* op = find_op(p.op)) {
    op->op.channel = f.info.channel;  // server-assigned id for unnamed channels
    op_succeeded(*op, 0, f.info.version, 0);
  }
  if (row.cursor == 0) request_sync();
}

void Core::receipts_advance_ops(const std::string& channel, Seq read, Seq delivered) {
  std::vector<OpId> done;
  for (auto& [id, row] : ops_) {
    if (row.op.kind != OpKind::send || row.op.channel != channel || row.op.seq == 0) continue;
    if (row.op.state != OpState::sent && row.op.state != OpState::delivered) continue;
    if (read >= row.op.seq) {
      set_op_state(row, OpState::read);
      done.push_back(id);
    } else if (delivered >= row.op.seq && row.op.state == OpState::sent) {
      set_op_state(row, OpState::delivered);
    }
  }
  for (OpId id : done)
    ops_.erase(id);
}

}  // namespace chatsdk::client
