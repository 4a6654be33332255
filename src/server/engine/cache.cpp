// The channel cache: channels with their members, users with their live
// sessions and memberships, and which members are online per channel. Loaded
// from the store at start and kept current from write results; used for the
// fast-path checks (the store re-checks) and to route fan-out.
#include <algorithm>
#include <unordered_set>

#include "server/engine/engine_impl.hpp"

namespace chatsdk::server {

Engine::UserEntry& Engine::user_entry(const std::string& id) {
  auto& p = users_[id];
  if (!p) {
    p = std::make_unique<UserEntry>();
    p->id = id;
    // Starts full once; afterwards it refills with time, so reconnecting does
    // not buy a fresh burst.
    p->sends.reset(config_.send_burst, clock_.steady_ms());
  }
  return *p;
}

Engine::UserEntry* Engine::find_user(const std::string& id) {
  auto it = users_.find(id);
  return it == users_.end() ? nullptr : it->second.get();
}

Engine::Channel* Engine::find_channel(const std::string& id) {
  auto it = channels_.find(id);
  return it == channels_.end() ? nullptr : it->second.get();
}

Engine::Channel& Engine::load_channel(const store::ChannelRecord& record) {
  auto& p = channels_[record.info.channel];
  if (!p) p = std::make_unique<Channel>();
  Channel& ch = *p;
  ch.info = record.info;
  ch.info.role = proto::Role::member;
  std::unordered_set<std::string_view> keep;
  keep.reserve(record.members.size());
  for (const auto& m : record.members) {
    keep.insert(m.user);
    if (MemberSlot* slot = ch.find(m.user)) {
      slot->role = m.role;
    } else {
      add_member(ch, user_entry(m.user), m.role);
    }
  }
  std::vector<std::string> gone;
  for (const auto& [user, slot] : ch.members) {
    if (!keep.count(user)) gone.push_back(user);
  }
  for (const auto& user : gone)
    remove_member(ch, user);
  ch.info.member_count = static_cast<std::uint32_t>(ch.members.size());
  return ch;
}

Engine::MemberSlot& Engine::add_member(Channel& ch, UserEntry& user, proto::Role role) {
  auto [it, inserted] = ch.members.try_emplace(user.id);
  MemberSlot& slot = it->second;
  slot.role = role;
  if (inserted) {
    slot.channel = &ch;
    slot.user = &user;
    user.memberships.push_back(&slot);
    if (user.online()) ch.online.insert(&slot);
  }
  return slot;
}

void Engine::remove_member(Channel& ch, const std::string& user) {
  auto it = ch.members.find(user);
  if (it == ch.members.end()) return;
  MemberSlot* slot = &it->second;
  ch.online.erase(slot);
  auto& list = slot->user->memberships;
  list.erase(std::remove(list.begin(), list.end(), slot), list.end());
  pending_cursors_.erase({user, ch.info.channel});
  ch.members.erase(it);
}

void Engine::set_online(UserEntry& user, bool online) {
  for (MemberSlot* slot : user.memberships) {
    if (online) {
      slot->channel->online.insert(slot);
    } else {
      slot->channel->online.erase(slot);
    }
  }
}

Engine::Channel* Engine::apply_to_cache(const store::WriteResult& r) {
  Channel* ch = nullptr;
  const std::string& id = r.channel_state ? r.channel_state->info.channel : r.channel;
  ch = find_channel(id);
  // A new channel, or a full member list that disagrees with the cache and
  // comes without incremental changes: take it whole. (A channel_update's
  // state repeats the unchanged members: O(1) here, not O(members).)
  if (r.channel_state &&
      (ch == nullptr || (r.member_changes.empty() && !r.channel_state->members.empty() &&
                         r.channel_state->members.size() != ch->members.size()))) {
    ch = &load_channel(*r.channel_state);
  } else {
    if (ch == nullptr) return nullptr;
    if (r.channel_state) {
      const auto& info = r.channel_state->info;
      ch->info.name = info.name;
      ch->info.is_public = info.is_public;
      ch->info.metadata = info.metadata;
      ch->info.last_seq = std::max(ch->info.last_seq, info.last_seq);
      ch->info.version = std::max(ch->info.version, info.version);
    }
    for (const auto& c : r.member_changes) {
      if (c.change == proto::MemberChange::removed) {
        remove_member(*ch, c.user);
      } else {
        add_member(*ch, user_entry(c.user), c.role);
      }
    }
    ch->info.member_count = static_cast<std::uint32_t>(ch->members.size());
  }
  for (const auto& m : r.messages) {
    ch->info.last_seq = std::max(ch->info.last_seq, m.seq);
    ch->info.version = std::max(ch->info.version, m.version);
  }
  for (const auto& c : r.member_changes)
    ch->info.version = std::max(ch->info.version, c.version);
  ch->info.version = std::max(ch->info.version, r.version);
  return ch;
}

proto::ChannelInfo Engine::info_for(const Channel& ch, proto::Role role) const {
  proto::ChannelInfo info = ch.info;
  info.role = role;
  return info;
}

Engine::MemberSlot* Engine::require_member(Session& s, proto::RequestId id,
                                           const std::string& channel) {
  Channel* ch = find_channel(channel);
  if (ch == nullptr) {
    send_error(s.id, id, Errc::not_found, "no such channel");
    return nullptr;
  }
  MemberSlot* slot = ch->find(s.user->id);
  if (slot == nullptr) send_error(s.id, id, Errc::not_member, "not a member of the channel");
  return slot;
}

}  // namespace chatsdk::server
