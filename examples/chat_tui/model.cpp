#include "model.hpp"

namespace chatsdk::tui {

namespace {
ChannelRow copy_channel(const chat_channel* c) {
  ChannelRow r;
  r.id = chat_channel_id(c);
  r.name = chat_channel_name(c);
  r.kind = chat_channel_get_kind(c);
  r.unread = chat_channel_unread(c);
  r.members = chat_channel_member_count(c);
  r.last_seq = chat_channel_last_seq(c);
  return r;
}

MessageRow copy_message(const chat_event* ev, std::size_t op, std::size_t item) {
  const chat_message* msg = chat_event_diff_message(ev, op, item);
  MessageRow r;
  r.key = chat_event_diff_item_key(ev, op, item);
  r.state = chat_event_diff_item_state(ev, op, item);
  r.client_id = chat_message_client_id(msg);
  r.sender = chat_message_sender(msg);
  r.body = chat_message_body(msg);
  r.seq = chat_message_seq(msg);
  r.created_at = chat_message_created_at(msg);
  r.edited = chat_message_edited_at(msg) != 0;
  r.deleted = chat_message_deleted(msg) != 0;
  for (std::size_t i = 0; i < chat_message_reaction_count(msg); ++i)
    r.reactions.push_back(ReactionRow{chat_message_reaction_emoji(msg, i),
                                      chat_message_reaction_users(msg, i),
                                      chat_message_reaction_mine(msg, i) != 0});
  return r;
}

// Applies the ops of one diff event to `rows` with `copy` making a row.
template <typename Row, typename Copy>
void apply_ops(std::vector<Row>& rows, const chat_event* ev, Copy copy) {
  for (std::size_t i = 0; i < chat_event_diff_count(ev); ++i) {
    std::size_t at = chat_event_diff_index(ev, i);
    switch (chat_event_diff_kind(ev, i)) {
      case CHAT_DIFF_RESET:
        rows.clear();
        for (std::size_t j = 0; j < chat_event_diff_item_count(ev, i); ++j)
          rows.push_back(copy(ev, i, j));
        break;
      case CHAT_DIFF_INSERT:
        if (at > rows.size()) at = rows.size();
        rows.insert(rows.begin() + static_cast<std::ptrdiff_t>(at), copy(ev, i, 0));
        break;
      case CHAT_DIFF_UPDATE:
        if (at < rows.size()) rows[at] = copy(ev, i, 0);
        break;
      case CHAT_DIFF_REMOVE:
        if (at < rows.size()) rows.erase(rows.begin() + static_cast<std::ptrdiff_t>(at));
        break;
    }
  }
}
}  // namespace

const ChannelRow* Model::channel(const std::string& id) const {
  for (const ChannelRow& c : channels)
    if (c.id == id) return &c;
  return nullptr;
}

std::string dm_peer(const std::string& id, const std::string& me) {
  if (id.rfind("dm:", 0) != 0) return "";
  std::string rest = id.substr(3);
  auto colon = rest.find(':');
  if (colon == std::string::npos) return "";
  std::string a = rest.substr(0, colon), b = rest.substr(colon + 1);
  return a == me ? b : a;
}

std::string channel_label(const ChannelRow& ch, const std::string& me) {
  if (ch.kind == CHAT_CHANNEL_DIRECT) {
    std::string peer = dm_peer(ch.id, me);
    if (!peer.empty()) return "@" + peer;
  }
  return "#" + (ch.name.empty() ? ch.id : ch.name);
}

void apply_channel_diff(Model& m, const chat_event* ev) {
  apply_ops(m.channels, ev, [](const chat_event* e, std::size_t op, std::size_t item) {
    return copy_channel(chat_event_diff_channel(e, op, item));
  });
}

void apply_timeline_diff(Model& m, const chat_event* ev) {
  apply_ops(m.rows, ev, copy_message);
}

}  // namespace chatsdk::tui
