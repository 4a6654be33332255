// Row <-> value conversions shared by the store's writer and reader: the
// message column list, the reactions summary and the mentions list.
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

std::vector<proto::Reaction> decode_reactions(std::string_view summary);
std::string encode_reactions(const std::vector<proto::Reaction>& reactions);

std::string encode_mentions(const std::vector<std::string>& users);
std::vector<std::string> decode_mentions(std::string_view json);

}  // namespace chatsdk::server::store
