// Conversions between wire types (chatsdk::proto) and public value types.
#pragma once

#include "chatsdk/types.hpp"
#include "common/protocol/types.hpp"

namespace chatsdk::client {

inline Message to_public(const proto::Message& m) {
  Message out;
  out.channel = m.channel;
  out.seq = m.seq;
  out.version = m.version;
  out.sender = m.sender;
  out.client_id = m.client_id;
  out.body = m.body;
  out.created_at = m.created_at;
  out.edited_at = m.edited_at;
  out.deleted = m.deleted;
  out.reply_to = m.reply_to;
  out.reply_count = m.reply_count;
  for (const auto& r : m.reactions)
    out.reactions.push_back(Reaction{r.emoji, r.count, r.mine});
  out.mentions = m.mentions;
  out.metadata = m.metadata.json;
  return out;
}

inline ChannelKind to_public(proto::ChannelKind k) {
  return static_cast<ChannelKind>(k);
}
inline Role to_public(proto::Role r) {
  return static_cast<Role>(r);
}
inline proto::ChannelKind to_proto(ChannelKind k) {
  return static_cast<proto::ChannelKind>(k);
}

inline Member to_public(const proto::Member& m) {
  return Member{m.user, to_public(m.role), m.read_seq};
}

inline User to_public(const proto::UserProfile& p) {
  return User{p.user, p.display_name, p.avatar_url, p.metadata.json};
}

}  // namespace chatsdk::client
