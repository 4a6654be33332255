// Writer ops on channels and membership: create, update, add, remove, role
// (see writer.hpp).
#include <algorithm>

#include "server/store/writer.hpp"

namespace chatsdk::server::store {
using writer_detail::can_moderate;
using writer_detail::failure;

namespace {

constexpr char kInsertChannel[] =
    "INSERT INTO channels (cid, kind, name, public, created_by, created_at, metadata, last_seq, "
    "version, member_count, info_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?8)";
constexpr char kUpdateChannelInfo[] =
    "UPDATE channels SET name = ?2, public = ?3, metadata = ?4, info_version = ?5 WHERE id = ?1";
constexpr char kUpsertMember[] =
    "INSERT INTO members (channel, user, role, version, removed, joined_at) "
    "VALUES (?1, ?2, ?3, ?4, 0, ?5) ON CONFLICT (channel, user) DO UPDATE SET role = "
    "excluded.role, "
    "version = excluded.version, removed = 0, joined_at = excluded.joined_at";
constexpr char kRemoveMember[] =
    "UPDATE members SET removed = 1, version = ?3 WHERE channel = ?1 AND user = ?2";
constexpr char kSetMemberRole[] =
    "UPDATE members SET role = ?3, version = ?4 WHERE channel = ?1 AND user = ?2";

}  // namespace

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
    for (const auto& m : op.members)
      add_member(m.user, Role::member);
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
    for (const auto& m : op.members)
      add_member(m.user, m.role);
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
  // Saved member_count 0: flush() writes the row again with the batch's
  // final counters.
  undo_.push_back(Undo{ch, 0, 0, 0, 0, std::nullopt, true});

  for (const auto& m : members) {
    Query q(db_, kUpsertMember);
    q.bind(1, ch->id).bind(2, m.user).bind(3, static_cast<int>(m.role)).bind(4, version);
    q.bind(5, op.now);
    q.run();
    r.member_changes.push_back(
        MemberChangeRecord{m.user, proto::MemberChange::added, m.role, version});
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
  r.version = changes ? ch->info.version : 0;  // a no-op assigns no version
  r.channel_state = ChannelRecord{ch->info, {}};
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
      const Version version = membership_version(*ch);
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
  r.version = fresh.empty() || is_large(*ch) ? 0 : ch->info.version;
  r.channel_state = ChannelRecord{ch->info, {}};  // the engine applies member_changes
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
      const Version version = membership_version(*ch);
      --ch->info.member_count;
      Query q(db_, kRemoveMember);
      q.bind(1, ch->id).bind(2, u).bind(3, version);
      q.run();
      ch->known_members.erase(u);
      r.member_changes.push_back(
          MemberChangeRecord{u, proto::MemberChange::removed, role, version});
    }
  }
  r.version = leaving.empty() || is_large(*ch) ? 0 : ch->info.version;
  r.channel_state = ChannelRecord{ch->info, {}};
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
  const bool changes = *target != op.role;
  if (changes && !db_.failed()) {
    touch(*ch);
    const Version version = membership_version(*ch);
    Query q(db_, kSetMemberRole);
    q.bind(1, ch->id).bind(2, op.target).bind(3, static_cast<int>(op.role)).bind(4, version);
    q.run();
    r.member_changes.push_back(
        MemberChangeRecord{op.target, proto::MemberChange::role, op.role, version});
  }
  r.version = !changes || is_large(*ch) ? 0 : ch->info.version;
  r.channel_state = ChannelRecord{ch->info, {}};
  remember(OpKind::role, op.user, op.client_id, r);
  return r;
}

}  // namespace chatsdk::server::store
