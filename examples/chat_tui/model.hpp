// What the screen shows, kept up to date from the SDK's events.
//
// Everything here is a copy: SDK views (chat_message, chat_channel) die with
// their event, so rows copy the fields they display. The channel list and the
// open timeline are maintained by applying the view-model diffs in order.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "chatsdk/chatsdk.h"

namespace chatsdk::tui {

struct ChannelRow {
  std::string id, name;
  chat_channel_kind kind = CHAT_CHANNEL_GROUP;
  std::uint32_t unread = 0, members = 0;
  std::uint64_t last_seq = 0;
};

struct ReactionRow {
  std::string emoji;
  std::uint32_t count = 0;
  bool mine = false;
};

struct MessageRow {
  std::string key, client_id, sender, body;
  std::uint64_t seq = 0;  ///< 0 while a local echo
  chat_op_state state = CHAT_OP_SENT;
  std::int64_t created_at = 0;
  bool edited = false, deleted = false;
  std::vector<ReactionRow> reactions;
};

struct PresenceRow {
  bool online = false;
  std::int64_t last_seen = 0;
};

struct Model {
  std::string me;
  chat_connection_state conn = CHAT_CONN_DISCONNECTED;
  std::int64_t retry_at_ms = -1;  ///< wall clock of the next reconnect, -1 = none
  std::string conn_error;         ///< why the last connection ended

  std::vector<ChannelRow> channels;
  std::string selected;  ///< channel whose timeline is open ("" = none)
  bool timeline_open = false;
  std::vector<MessageRow> rows;  ///< timeline of `selected`
  bool more_before = true;       ///< older history may exist
  bool loading_older = false;
  std::vector<std::string> peers;  ///< other members of `selected`

  std::map<std::string, std::vector<std::string>> typing;  ///< channel -> users (not me)
  std::map<std::string, PresenceRow> presence;             ///< user -> presence
  std::map<std::string, std::uint64_t> peer_seen;  ///< channel -> highest seq another member got

  const ChannelRow* channel(const std::string& id) const;
};

/// The display name of a channel: its name, "@other" for a direct channel.
std::string channel_label(const ChannelRow& ch, const std::string& me);
/// The other user of a direct channel id "dm:a:b" ("" when not one).
std::string dm_peer(const std::string& channel_id, const std::string& me);

/// Applies a CHANNEL_LIST_DIFF.
void apply_channel_diff(Model& m, const chat_event* ev);
/// Applies a TIMELINE_DIFF of the selected channel.
void apply_timeline_diff(Model& m, const chat_event* ev);

}  // namespace chatsdk::tui
