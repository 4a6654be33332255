// Row <-> value conversions shared by the store's writer and reader: the
// message and channel column lists, the reactions summary and the mentions
// list.
//
// Encodings (chosen so that no JSON parser runs on the hot path):
//  - messages.reactions: "emoji count emoji count ..." in first-reaction order.
//    Emoji never contain whitespace (proto::Str::emoji), so a space separates.
//  - messages.mentions: a JSON array of user ids, '["a","b"]' (ids are
//    [A-Za-z0-9_.:@-], never escaped), so SQL can json_each() it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/types.hpp"
#include "server/store/sqlite_db.hpp"

namespace chatsdk::server::store {

// Columns read into a proto::Message, in read_message()'s order.
#define CHATSDK_MSG_COLS                                                              \
  "seq, version, sender, client_id, body, created_at, edited_at, deleted, reply_to, " \
  "reply_count, metadata, reactions, mentions"
inline constexpr int kMsgColCount = 13;

/// Reads the CHATSDK_MSG_COLS columns starting at `first`.
void read_message(const Query& q, int first, std::string_view channel, proto::Message& out);

// Columns read into a proto::ChannelInfo by read_channel(), from `channels AS c`.
//
// A channel's last_seq and version are derived from the rows that carry them,
// because a send commits only its message row: writing the channel row once
// per batch as well cost ~15% of a 1:1 message's server CPU (one more random
// page per channel per commit). The row's own counters are a lower bound,
// brought up to date when the member count changes and at a clean close.
//  - last_seq: the highest message seq (messages_by_seq).
//  - version: every change stores its version in a row: a send as its
//    message's created_version (growing with seq), an edit, delete, reaction
//    or reply-count bump as the message's version (messages_by_version holds
//    exactly the rows where the two differ), a membership change in its member
//    row (members_by_version), an info change as the channel's info_version.
// Each is an index seek, a few µs per channel.
#define CHATSDK_CHAN_LAST_SEQ \
  "max(c.last_seq, coalesce((SELECT max(seq) FROM messages WHERE channel = c.id), 0))"
#define CHATSDK_CHAN_VERSION                                                                     \
  "max(c.version, c.info_version, "                                                              \
  "coalesce((SELECT created_version FROM messages WHERE channel = c.id ORDER BY seq DESC LIMIT " \
  "1), 0), "                                                                                     \
  "coalesce((SELECT max(version) FROM messages WHERE channel = c.id AND version <> "            \
  "created_version), 0), "                                                                       \
  "coalesce((SELECT max(version) FROM members WHERE channel = c.id), 0))"
#define CHATSDK_CHAN_COLS                                                                \
  "c.id, c.cid, c.kind, c.name, c.public, c.created_by, c.created_at, c.metadata, "      \
  CHATSDK_CHAN_LAST_SEQ ", " CHATSDK_CHAN_VERSION ", c.member_count, c.info_version"
inline constexpr int kChanColCount = 12;

/// Reads the CHATSDK_CHAN_COLS columns starting at `first`.
void read_channel(const Query& q, int first, std::int64_t& id, proto::ChannelInfo& out,
                  proto::Version& info_version);

std::vector<proto::Reaction> decode_reactions(std::string_view summary);
std::string encode_reactions(const std::vector<proto::Reaction>& reactions);

std::string encode_mentions(const std::vector<std::string>& users);
std::vector<std::string> decode_mentions(std::string_view json);

}  // namespace chatsdk::server::store
