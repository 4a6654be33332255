// Mutations: fast-path checks, store write, then (in the store's commit-order
// callback) cache update -> ack to the requester -> fan-out. Replays
// (already_applied) are answered and never fanned out.
#include <algorithm>
#include <array>

#include "common/protocol/codec.hpp"
#include "server/engine/engine_impl.hpp"

namespace chatsdk::server {

namespace {

/// One lazily-encoded frame per role, for events whose ChannelInfo carries the
/// receiving user's role (at most three encodings per event).
template <class Build>
class RoleBytes {
 public:
  explicit RoleBytes(Build build) : build_(std::move(build)) {}
  const Bytes& get(proto::Role role) {
    auto& b = bytes_[static_cast<std::size_t>(role)];
    if (!b) b = make_bytes(proto::encode(build_(role)));
    return b;
  }

 private:
  Build build_;
  std::array<Bytes, 3> bytes_{};
};

/// True when the op made a new change (not an error, not a replay).
bool committed_new(const store::WriteResult& r) {
  return r.ok() && !r.already_applied;
}

}  // namespace

void Engine::write(store::WriteOp op, std::function<void(store::WriteResult&)> done) {
  std::weak_ptr<int> alive = alive_;
  store_->write(std::move(op), [this, alive, done = std::move(done)](store::WriteResult r) {
    if (alive.expired()) return;
    note_store_result(r.error.code);
    done(r);
  });
}

void Engine::complete_ok(SessionId sid, proto::RequestId id, const std::string& client_id,
                         store::WriteResult& r) {
  if (!r.ok()) {
    send_error(sid, id, r.error.code, r.error.message);
  } else if (r.already_applied) {
    reply(sid, proto::AlreadyApplied{id, r.channel, client_id, r.seq, r.version});
  } else {
    reply(sid, proto::Ok{id, r.channel, r.version});
  }
}

// ------------------------------------------------------------------ messages

void Engine::on_send(Session& s, proto::Send& f) {
  if (!require_member(s, f.id, f.channel)) return;
  if (f.body.size() > config_.max_body_bytes ||
      f.metadata.json.size() > config_.max_metadata_bytes) {
    send_error(s.id, f.id, Errc::body_too_large, "body or metadata over the limit");
    return;
  }
  if (!admit_mutation(s, f.id, /*is_send=*/true)) return;
  store::SendOp op;
  op.user = s.user->id;
  op.channel = std::move(f.channel);
  op.client_id = f.client_id;
  op.body = std::move(f.body);
  op.reply_to = f.reply_to;
  op.mentions = std::move(f.mentions);
  op.metadata = std::move(f.metadata);
  op.now = clock_.now_ms();
  write(std::move(op), [this, sid = s.id, rid = f.id, client_id = std::move(f.client_id),
                        user = s.user->id](store::WriteResult& r) {
    if (!committed_new(r)) return complete_ok(sid, rid, client_id, r);
    Channel* ch = apply_to_cache(r);
    ++metrics_.messages_stored;
    // Your own send is read and delivered for you: the cursor moves here
    // and reaches the store with the next batched receipt write.
    if (MemberSlot* slot = ch ? ch->find(user) : nullptr) {
      advance_cursor(*slot, r.seq, r.seq, sid, /*notify=*/false);
    }
    const proto::Version version = r.messages.empty() ? r.version : r.messages.front().version;
    reply(sid, proto::Sent{rid, r.channel, client_id, r.seq, version, r.created_at});
    fanout_messages(r, proto::MessageChange::created, user, sid);
  });
}

void Engine::on_edit(Session& s, proto::Edit& f) {
  if (!require_member(s, f.id, f.channel)) return;
  if (f.body.size() > config_.max_body_bytes ||
      f.metadata.json.size() > config_.max_metadata_bytes) {
    send_error(s.id, f.id, Errc::body_too_large, "body or metadata over the limit");
    return;
  }
  if (!admit_mutation(s, f.id)) return;
  store::EditOp op;
  op.user = s.user->id;
  op.channel = std::move(f.channel);
  op.client_id = f.client_id;
  op.body = std::move(f.body);
  op.seq = f.seq;
  op.metadata = std::move(f.metadata);
  op.now = clock_.now_ms();
  write_message_change(s, f.id, std::move(f.client_id), std::move(op),
                       proto::MessageChange::edited);
}

void Engine::on_delete(Session& s, proto::Delete& f) {
  if (!require_member(s, f.id, f.channel)) return;
  if (!admit_mutation(s, f.id)) return;
  store::DeleteOp op;
  op.user = s.user->id;
  op.channel = std::move(f.channel);
  op.client_id = f.client_id;
  op.seq = f.seq;
  op.now = clock_.now_ms();
  write_message_change(s, f.id, std::move(f.client_id), std::move(op),
                       proto::MessageChange::deleted);
}

void Engine::on_react(Session& s, proto::React& f) {
  if (!require_member(s, f.id, f.channel)) return;
  if (!admit_mutation(s, f.id)) return;
  store::ReactOp op;
  op.user = s.user->id;
  op.channel = std::move(f.channel);
  op.client_id = f.client_id;
  op.emoji = f.emoji;
  op.seq = f.seq;
  op.action = f.action;
  op.now = clock_.now_ms();
  write_message_change(s, f.id, std::move(f.client_id), std::move(op),
                       proto::MessageChange::reaction, std::move(f.emoji), f.action);
}

// Edits, deletes and reactions complete alike: ack after commit, then the
// message event (never for a replay or a no-op).
void Engine::write_message_change(Session& s, proto::RequestId rid, std::string client_id,
                                  store::WriteOp op, proto::MessageChange change, std::string emoji,
                                  proto::ReactAction action) {
  write(std::move(op), [this, sid = s.id, rid, client_id = std::move(client_id), user = s.user->id,
                        change, emoji = std::move(emoji), action](store::WriteResult& r) {
    if (committed_new(r)) apply_to_cache(r);
    complete_ok(sid, rid, client_id, r);
    if (committed_new(r)) fanout_messages(r, change, user, sid, emoji, action);
  });
}

void Engine::fanout_messages(const store::WriteResult& r, proto::MessageChange change,
                             const std::string& actor, SessionId origin, std::string_view emoji,
                             proto::ReactAction action) {
  if (r.messages.empty()) return;  // no-op change (e.g. deleting a tombstone)
  Channel* ch = find_channel(r.messages.front().channel);
  if (ch == nullptr) return;
  for (std::size_t i = 0; i < r.messages.size(); ++i) {
    proto::MessageEvent ev;
    // A reply's second message is its parent with reply_count + 1. It goes to
    // the sending session too: that session's ack covers only the new message.
    const bool parent = change == proto::MessageChange::created && i > 0;
    ev.change = parent ? proto::MessageChange::reply : change;
    ev.actor = actor;
    if (change == proto::MessageChange::reaction) {
      ev.emoji = std::string(emoji);
      ev.action = action;
    }
    ev.message = r.messages[i];
    fanout(*ch, encode(ev), parent ? SessionId{0} : origin);
  }
}

// ------------------------------------------------------------------ channels

void Engine::on_channel_create(Session& s, proto::ChannelCreate& f) {
  if (f.metadata.json.size() > config_.max_metadata_bytes) {
    send_error(s.id, f.id, Errc::body_too_large, "metadata over the limit");
    return;
  }
  if (f.members.size() + 1 > config_.max_members) {
    send_error(s.id, f.id, Errc::limit_exceeded, "too many members");
    return;
  }
  if (!admit_mutation(s, f.id)) return;
  store::CreateChannelOp op;
  op.user = s.user->id;
  op.client_id = f.client_id;
  op.kind = f.kind;
  op.channel = std::move(f.channel);
  op.name = std::move(f.name);
  op.is_public = f.is_public;
  op.members.reserve(f.members.size());
  for (auto& m : f.members)
    op.members.push_back({std::move(m), proto::Role::member});
  op.metadata = std::move(f.metadata);
  op.now = clock_.now_ms();
  write(std::move(op), [this, sid = s.id, rid = f.id, client_id = std::move(f.client_id),
                        user = s.user->id](store::WriteResult& r) {
    if (!committed_new(r)) return complete_ok(sid, rid, client_id, r);
    const bool existed = r.channel_state && find_channel(r.channel_state->info.channel);
    Channel* ch = apply_to_cache(r);
    if (ch == nullptr) return send_error(sid, rid, Errc::internal, "channel state missing");
    const MemberSlot* mine = ch->find(user);
    reply(sid, proto::ChannelReply{rid, info_for(*ch, mine ? mine->role : proto::Role::member)});
    if (!existed) fanout_channel_added(*ch, {}, sid);
  });
}

void Engine::fanout_channel_added(Channel& ch, const std::vector<std::string>& users,
                                  SessionId origin) {
  RoleBytes bytes([&](proto::Role role) {
    return proto::ServerFrame{proto::ChannelAdded{info_for(ch, role)}};
  });
  auto send_to = [&](const MemberSlot& slot) {
    for (SessionId sid : slot.user->sessions) {
      if (sid != origin) deliver(sid, bytes.get(slot.role));
    }
  };
  if (users.empty()) {  // every member (a new channel)
    for (const MemberSlot* slot : ch.online)
      send_to(*slot);
    return;
  }
  for (const auto& u : users) {
    if (const MemberSlot* slot = ch.find(u)) send_to(*slot);
  }
}

void Engine::fanout_channel_updated(Channel& ch) {
  RoleBytes bytes([&](proto::Role role) {
    return proto::ServerFrame{proto::ChannelUpdated{info_for(ch, role)}};
  });
  for (const MemberSlot* slot : ch.online) {
    for (SessionId sid : slot->user->sessions)
      deliver(sid, bytes.get(slot->role));
  }
}

void Engine::fanout_members(Channel& ch, const store::WriteResult& r, const std::string& actor,
                            SessionId origin) {
  for (const auto& c : r.member_changes) {
    proto::MemberEvent ev;
    ev.channel = ch.info.channel;
    ev.version = c.version;
    ev.change = c.change;
    ev.user = c.user;
    ev.role = c.role;
    ev.actor = actor;
    ev.member_count = ch.info.member_count;
    // Every member after the change (the added user included; a removed one
    // is already out of the cache and gets channel_removed instead). Large
    // channels publish counts only: a join must not cost O(members).
    if (ch.info.kind != proto::ChannelKind::large) fanout(ch, encode(ev), 0);
    UserEntry* subject = find_user(c.user);
    if (subject == nullptr) continue;
    if (c.change == proto::MemberChange::added) {
      fanout_channel_added(ch, {c.user}, origin);
    } else if (c.change == proto::MemberChange::removed) {
      to_user(*subject, encode(proto::ChannelRemoved{ch.info.channel, c.version}), 0);
    }
  }
}

void Engine::on_channel_update(Session& s, proto::ChannelUpdate& f) {
  if (!require_member(s, f.id, f.channel)) return;
  if (f.metadata && f.metadata->json.size() > config_.max_metadata_bytes) {
    send_error(s.id, f.id, Errc::body_too_large, "metadata over the limit");
    return;
  }
  if (!admit_mutation(s, f.id)) return;
  store::UpdateChannelOp op;
  op.user = s.user->id;
  op.channel = std::move(f.channel);
  op.client_id = f.client_id;
  op.name = std::move(f.name);
  op.is_public = f.is_public;
  op.metadata = std::move(f.metadata);
  op.now = clock_.now_ms();
  write(std::move(op),
        [this, sid = s.id, rid = f.id, client_id = std::move(f.client_id)](store::WriteResult& r) {
          Channel* ch = committed_new(r) ? apply_to_cache(r) : nullptr;
          complete_ok(sid, rid, client_id, r);
          // A no-op update (version 0) tells nobody anything.
          if (ch != nullptr && r.version != 0) fanout_channel_updated(*ch);
        });
}

// Membership ops complete alike: ack after commit, then member events.
void Engine::write_membership(Session& s, proto::RequestId rid, std::string client_id,
                              store::WriteOp op) {
  write(std::move(op), [this, sid = s.id, rid, client_id = std::move(client_id),
                        user = s.user->id](store::WriteResult& r) {
    Channel* ch = committed_new(r) ? apply_to_cache(r) : nullptr;
    complete_ok(sid, rid, client_id, r);
    if (ch != nullptr) fanout_members(*ch, r, user, sid);
  });
}

void Engine::on_members_add(Session& s, proto::MembersAdd& f) {
  if (!require_member(s, f.id, f.channel)) return;
  if (!admit_mutation(s, f.id)) return;
  store::AddMembersOp op;
  op.user = s.user->id;
  op.channel = std::move(f.channel);
  op.client_id = f.client_id;
  op.users = std::move(f.users);
  op.role = f.role;
  op.now = clock_.now_ms();
  write_membership(s, f.id, std::move(f.client_id), std::move(op));
}

void Engine::on_members_remove(Session& s, proto::MembersRemove& f) {
  if (!require_member(s, f.id, f.channel)) return;
  if (!admit_mutation(s, f.id)) return;
  store::RemoveMembersOp op;
  op.user = s.user->id;
  op.channel = std::move(f.channel);
  op.client_id = f.client_id;
  op.users = std::move(f.users);
  op.now = clock_.now_ms();
  write_membership(s, f.id, std::move(f.client_id), std::move(op));
}

void Engine::on_member_role(Session& s, proto::MemberRole& f) {
  if (!require_member(s, f.id, f.channel)) return;
  if (!admit_mutation(s, f.id)) return;
  store::SetRoleOp op;
  op.user = s.user->id;
  op.channel = std::move(f.channel);
  op.client_id = f.client_id;
  op.target = std::move(f.user);
  op.role = f.role;
  op.now = clock_.now_ms();
  write_membership(s, f.id, std::move(f.client_id), std::move(op));
}

void Engine::on_join(Session& s, proto::Join& f) {
  Channel* ch = find_channel(f.channel);
  if (ch == nullptr) return send_error(s.id, f.id, Errc::not_found, "no such channel");
  if (const MemberSlot* slot = ch->find(s.user->id)) {
    return reply(s.id, proto::ChannelReply{f.id, info_for(*ch, slot->role)});
  }
  if (!ch->info.is_public) return send_error(s.id, f.id, Errc::permission_denied, "not public");
  if (!admit_mutation(s, f.id)) return;
  store::AddMembersOp op;
  op.user = s.user->id;
  op.channel = f.channel;
  op.users = {s.user->id};
  op.join = true;
  op.now = clock_.now_ms();
  write(std::move(op), [this, sid = s.id, rid = f.id, user = s.user->id,
                        channel = std::move(f.channel)](store::WriteResult& r) {
    if (!r.ok()) return send_error(sid, rid, r.error.code, r.error.message);
    Channel* c = r.already_applied ? find_channel(channel) : apply_to_cache(r);
    const MemberSlot* slot = c ? c->find(user) : nullptr;
    if (slot == nullptr) return send_error(sid, rid, Errc::internal, "join not reflected");
    reply(sid, proto::ChannelReply{rid, info_for(*c, slot->role)});
    if (!r.already_applied) fanout_members(*c, r, user, sid);
  });
}

void Engine::on_profile_set(Session& s, proto::ProfileSet& f) {
  if (f.metadata && f.metadata->json.size() > config_.max_metadata_bytes) {
    send_error(s.id, f.id, Errc::body_too_large, "metadata over the limit");
    return;
  }
  if (!admit_mutation(s, f.id)) return;
  store::SetProfileOp op;
  op.user = s.user->id;
  op.display_name = std::move(f.display_name);
  op.avatar_url = std::move(f.avatar_url);
  op.metadata = std::move(f.metadata);
  op.now = clock_.now_ms();
  write(std::move(op), [this, sid = s.id, rid = f.id](store::WriteResult& r) {
    if (!r.ok()) return send_error(sid, rid, r.error.code, r.error.message);
    reply(sid, proto::Ok{rid, {}, 0});
  });
}

}  // namespace chatsdk::server
